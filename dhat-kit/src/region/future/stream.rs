//! Regions over streams (feature `stream`): [`InRegion`] is a [`Stream`] when what it wraps is
//! one, made by [`InRegionStreamExt::in_region`].

use super::InRegion;
use futures_core::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs a stream inside a region: [`in_region`](InRegionStreamExt::in_region) and
/// [`in_current_region`](InRegionStreamExt::in_current_region), as
/// [`InRegionExt`](crate::InRegionExt) does for a future. Implemented for every
/// [`Stream`] (feature `stream`).
///
/// # Examples
///
/// ```
/// use dhat_kit::InRegionStreamExt;
/// use futures_core::Stream;
/// use std::pin::Pin;
/// use std::task::{Context, Poll, Waker};
///
/// dhat_kit::global_allocator!();
///
/// /// Three lines of 100 bytes, then the end.
/// struct Lines(usize);
///
/// impl Stream for Lines {
///     type Item = Vec<u8>;
///     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
///         self.0 += 1;
///         Poll::Ready((self.0 <= 3).then(|| vec![b'x'; 100]))
///     }
/// }
///
/// fn main() {
///     let mut lines = std::pin::pin!(Lines(0).in_region("lines"));
///     let mut cx = Context::from_waker(Waker::noop());
///     while let Poll::Ready(Some(line)) = lines.as_mut().poll_next(&mut cx) {
///         assert_eq!(line.len(), 100);
///     }
///     let lines = dhat_kit::regions().get("lines").cloned().expect("counted at the end");
///     assert_eq!((lines.entries, lines.inclusive.total_bytes), (1, 300));
/// }
/// ```
pub trait InRegionStreamExt: Stream + Sized {
    /// This stream, with everything its polls allocate, on whatever thread polls it, attributed
    /// to the region `name`, nested under the region active where this is called (if any).
    ///
    /// It is one entry of the region, counted when the stream ends (its poll returns
    /// `Ready(None)`) or is dropped, with the figures of all its polls, as
    /// [`InRegionExt::in_region`](crate::InRegionExt::in_region) says for a future. The items
    /// it yields are allocated inside the region; what the consumer does with them between the
    /// polls is not counted (a freed item counts where it is freed).
    ///
    /// The stream is `Send` when `self` is. Built without a counting feature, it only polls
    /// `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::InRegionStreamExt;
    /// use futures_core::Stream;
    /// use std::pin::Pin;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// dhat_kit::global_allocator!();
    ///
    /// /// Numbers, each boxed, for ever.
    /// struct Numbers(u64);
    ///
    /// impl Stream for Numbers {
    ///     type Item = Box<u64>;
    ///     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Box<u64>>> {
    ///         self.0 += 1;
    ///         Poll::Ready(Some(Box::new(self.0)))
    ///     }
    /// }
    ///
    /// fn main() {
    ///     let mut numbers = Box::pin(Numbers(0).in_region("numbers"));
    ///     let mut cx = Context::from_waker(Waker::noop());
    ///     for _ in 0..10 {
    ///         let _ = numbers.as_mut().poll_next(&mut cx);
    ///     }
    ///     // Never ended: counted when it is dropped.
    ///     drop(numbers);
    ///     let numbers = dhat_kit::regions().get("numbers").cloned().unwrap();
    ///     assert_eq!(numbers.inclusive.total_bytes, 80);
    /// }
    /// ```
    fn in_region(self, name: &'static str) -> InRegion<Self> {
        InRegion::named(self, name)
    }

    /// This stream, attributed to the region active where this is called (none outside any), as
    /// [`InRegionExt::in_current_region`](crate::InRegionExt::in_current_region) does for a
    /// future.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::InRegionStreamExt;
    /// use futures_core::Stream;
    /// use std::pin::Pin;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// dhat_kit::global_allocator!();
    ///
    /// struct Once(bool);
    ///
    /// impl Stream for Once {
    ///     type Item = Vec<u8>;
    ///     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
    ///         let first = !std::mem::replace(&mut self.0, true);
    ///         Poll::Ready(first.then(|| vec![0; 64]))
    ///     }
    /// }
    ///
    /// fn main() {
    ///     let batch = dhat_kit::Region::enter("batch-stream");
    ///     let part = Once(false).in_current_region();
    ///     drop(batch);
    ///     let mut part = std::pin::pin!(part);
    ///     let mut cx = Context::from_waker(Waker::noop());
    ///     while let Poll::Ready(Some(_)) = part.as_mut().poll_next(&mut cx) {}
    ///     let batch = dhat_kit::regions().get("batch-stream").cloned().unwrap();
    ///     assert_eq!((batch.entries, batch.inclusive.total_bytes), (2, 64));
    /// }
    /// ```
    fn in_current_region(self) -> InRegion<Self> {
        InRegion::in_current(self)
    }
}

impl<S: Stream> InRegionStreamExt for S {}

impl<S: Stream> Stream for InRegion<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        // SAFETY: as in `Future::poll` for `InRegion`: the stream (its `future` field) is pinned
        // whenever `self` is, never moved out, only polled through a pinned reference and dropped
        // in place.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let stream = unsafe { Pin::new_unchecked(&mut *this.future) };
        #[cfg(feature = "peak")]
        {
            this.entry.poll(
                || stream.poll_next(cx),
                |out| matches!(out, Poll::Ready(None)),
            )
        }
        #[cfg(not(feature = "peak"))]
        {
            stream.poll_next(cx)
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.future.size_hint()
    }
}
