//! Walking a list a page at a time: a lazy `Stream` for the async client and an `Iterator`
//! for the blocking one, each fetching the next page only when the items of the last one
//! are used up, and stopping at the page whose `next` is null (no request past the end).

use std::collections::VecDeque;
use std::future::Future;

use futures_core::Stream;

use crate::error::Result;
use crate::model::Page;

/// A list operation that can fetch any page of itself.
pub(crate) trait PageSource: Clone + Send + 'static {
    type Item: Send + 'static;

    /// The page numbered `page` (from 1).
    fn fetch(self, page: u64) -> impl Future<Output = Result<Page<Self::Item>>> + Send + 'static;
}

/// Where a walk is: the items of the current page not yet handed out, and the next page to
/// fetch, if any.
struct Walk<S: PageSource> {
    source: S,
    buffer: VecDeque<S::Item>,
    next_page: Option<u64>,
}

impl<S: PageSource> Walk<S> {
    fn new(source: S, first_page: u64) -> Self {
        Self {
            source,
            buffer: VecDeque::new(),
            next_page: Some(first_page),
        }
    }

    /// Takes in a fetched page; after an error the walk ends.
    fn absorb(&mut self, page: u64, fetched: Result<Page<S::Item>>) -> Option<Result<S::Item>> {
        match fetched {
            Ok(fetched) => {
                if fetched.has_next() && !fetched.results.is_empty() {
                    self.next_page = Some(page + 1);
                }
                self.buffer.extend(fetched.results);
                self.buffer.pop_front().map(Ok)
            }
            Err(error) => Some(Err(error)),
        }
    }
}

/// Every item of the list from `first_page` on, as a stream.
pub(crate) fn stream<S: PageSource>(
    source: S,
    first_page: u64,
) -> impl Stream<Item = Result<S::Item>> + Send + 'static {
    futures_util::stream::unfold(Walk::new(source, first_page), |mut walk| async move {
        loop {
            if let Some(item) = walk.buffer.pop_front() {
                return Some((Ok(item), walk));
            }
            let page = walk.next_page.take()?;
            let fetched = walk.source.clone().fetch(page).await;
            if let Some(next) = walk.absorb(page, fetched) {
                return Some((next, walk));
            }
        }
    })
}

/// Every item of a list from one page on, for the blocking client: fetches the next page
/// when the items of the last are used up, and ends after the last page or an error. Made by
/// a list builder's `into_iter()` (or a `for` loop over it).
#[cfg(feature = "blocking")]
pub struct PageIter<T> {
    buffer: VecDeque<T>,
    next_page: Option<u64>,
    fetch: Box<dyn FnMut(u64) -> Result<Page<T>> + Send>,
}

#[cfg(feature = "blocking")]
impl<T> std::fmt::Debug for PageIter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageIter")
            .field("buffered", &self.buffer.len())
            .field("next_page", &self.next_page)
            .finish()
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + 'static> PageIter<T> {
    pub(crate) fn new<S>(source: S, first_page: u64, mode: crate::request::Blocking) -> Self
    where
        S: PageSource<Item = T>,
    {
        Self {
            buffer: VecDeque::new(),
            next_page: Some(first_page),
            fetch: Box::new(move |page| mode.block_on(source.clone().fetch(page))),
        }
    }
}

#[cfg(feature = "blocking")]
impl<T> Iterator for PageIter<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            let page = self.next_page.take()?;
            match (self.fetch)(page) {
                Ok(fetched) => {
                    if fetched.has_next() && !fetched.results.is_empty() {
                        self.next_page = Some(page + 1);
                    }
                    self.buffer.extend(fetched.results);
                }
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

/// Writes, for a list builder implementing [`PageSource`] with a `page: Option<u64>` field,
/// `send` (one page), `send_with_response`, and the walk over every item: `into_stream`
/// (async) and `IntoIterator` (blocking).
macro_rules! list_impls {
    ($builder:ident => $item:ty) => {
        impl<M> $builder<M> {
            /// The page to read, from 1 (the first by default); a walk starts there.
            pub fn page(mut self, page: u64) -> Self {
                self.page = Some(page);
                self
            }

            /// How many items a page holds, 1 to 100 (the service's default when not set).
            pub fn page_size(mut self, page_size: u64) -> Self {
                self.page_size = Some(page_size);
                self
            }
        }

        impl $builder<$crate::request::Async> {
            /// Reads one page (see [`page`](Self::page)).
            pub async fn send(self) -> $crate::Result<$crate::model::Page<$item>> {
                self.execute(false).await.map($crate::Response::into_value)
            }

            /// Like [`send`](Self::send), with the HTTP answer.
            pub async fn send_with_response(
                self,
            ) -> $crate::Result<$crate::Response<$crate::model::Page<$item>>> {
                self.execute(true).await
            }

            /// Every item from the page set (the first by default) to the last, fetching
            /// each page when the items before it are used up. An error ends the stream.
            ///
            /// ```no_run
            /// use futures_util::TryStreamExt;
            /// # async fn run(client: kelviq::Client) -> kelviq::Result<()> {
            /// let all: Vec<_> = client.customers().list().page_size(100).into_stream().try_collect().await?;
            /// # Ok(()) }
            /// ```
            pub fn into_stream(
                self,
            ) -> impl futures_core::Stream<Item = $crate::Result<$item>> + Send + 'static {
                let first = self.page.unwrap_or(1);
                $crate::paging::stream(self, first)
            }
        }

        #[cfg(feature = "blocking")]
        impl $builder<$crate::request::Blocking> {
            /// Reads one page (see [`page`](Self::page)).
            pub fn send(self) -> $crate::Result<$crate::model::Page<$item>> {
                let mode = self.ctx.mode.clone();
                mode.block_on(
                    async move { self.execute(false).await.map($crate::Response::into_value) },
                )
            }

            /// Like [`send`](Self::send), with the HTTP answer.
            pub fn send_with_response(
                self,
            ) -> $crate::Result<$crate::Response<$crate::model::Page<$item>>> {
                let mode = self.ctx.mode.clone();
                mode.block_on(self.execute(true))
            }
        }

        /// Every item from the page set (the first by default) to the last, fetching each
        /// page when the items before it are used up.
        #[cfg(feature = "blocking")]
        impl IntoIterator for $builder<$crate::request::Blocking> {
            type Item = $crate::Result<$item>;
            type IntoIter = $crate::paging::PageIter<$item>;

            fn into_iter(self) -> Self::IntoIter {
                let first = self.page.unwrap_or(1);
                let mode = self.ctx.mode.clone();
                $crate::paging::PageIter::new(self, first, mode)
            }
        }

        impl<M: Clone + Send + Sync + 'static> $crate::paging::PageSource for $builder<M> {
            type Item = $item;

            fn fetch(
                mut self,
                page: u64,
            ) -> impl std::future::Future<Output = $crate::Result<$crate::model::Page<$item>>>
                   + Send
                   + 'static {
                self.page = Some(page);
                async move { self.execute(false).await.map($crate::Response::into_value) }
            }
        }
    };
}
pub(crate) use list_impls;
