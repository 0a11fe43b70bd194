//! Regions over streams (`InRegionStreamExt::in_region`, feature `stream`): one entry per stream,
//! whatever threads poll it, counted when it ends or is dropped, with exact figures summed over
//! its polls and nothing of what the consumer does between them.
//!
//! Tests here run in parallel and share the process's registry, so each uses its own region names.

dhat_kit::global_allocator!();

mod common;
use common::{region as get, stats};

use dhat_kit::{regions, InRegion, InRegionStreamExt, Region};
use futures_core::Stream;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Yields `items` blocks of 100, 200, 300... bytes, each after a poll that is pending (waking its
/// task at once); each yielding poll also allocates and frees 50 bytes of scratch. Keeps a buffer
/// of 1,000 bytes from its first poll, freed when it ends (or when it is dropped).
struct Chunks {
    items: usize,
    yielded: usize,
    pending: bool,
    buffer: Option<Vec<u8>>,
}

fn chunks(items: usize) -> Chunks {
    Chunks {
        items,
        yielded: 0,
        pending: false,
        buffer: None,
    }
}

impl Stream for Chunks {
    type Item = Vec<u8>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<u8>>> {
        if self.buffer.is_none() && self.yielded < self.items {
            self.buffer = Some(black_box(vec![0u8; 1_000]));
        }
        // Pending on every other poll, from the first.
        self.pending = !self.pending;
        if self.pending {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.yielded == self.items {
            self.buffer = None;
            return Poll::Ready(None);
        }
        self.yielded += 1;
        drop(black_box(vec![0u8; 50]));
        Poll::Ready(Some(black_box(vec![1u8; 100 * self.yielded])))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.items - self.yielded;
        (left, Some(left))
    }
}

type Boxed = Pin<Box<InRegion<Chunks>>>;

fn poll_next(stream: &mut Boxed) -> Poll<Option<Vec<u8>>> {
    stream
        .as_mut()
        .poll_next(&mut Context::from_waker(Waker::noop()))
}

/// Polls `stream` once on a thread of its own, which allocates before and after the poll (not
/// counted: it is not inside the poll); an item is freed there too, outside the poll.
fn poll_on_new_thread(mut stream: Boxed) -> (Boxed, Poll<Option<usize>>) {
    std::thread::spawn(move || {
        let noise = black_box(vec![0u8; 7_000]);
        let out = poll_next(&mut stream).map(|item| item.map(|item| item.len()));
        drop(noise);
        (stream, out)
    })
    .join()
    .unwrap()
}

#[test]
fn a_stream_polled_on_several_threads_is_one_entry_counted_when_it_ends() {
    let mut stream = Box::pin(chunks(3).in_region("stream-threads"));
    let mut lens = Vec::new();
    let end = loop {
        let (next, out) = poll_on_new_thread(stream);
        stream = next;
        match out {
            Poll::Pending => {}
            Poll::Ready(Some(len)) => {
                lens.push(len);
                assert!(
                    regions().get("stream-threads").is_none(),
                    "counted before the stream ended"
                );
            }
            Poll::Ready(None) => break get("stream-threads"),
        }
    };
    assert_eq!(lens, [100, 200, 300]);
    assert_eq!(end.entries, 1, "one entry, however many polls");
    // The buffer (1,000), three scratch blocks (150) and the items (600): 1,750 bytes in 7
    // blocks. The items were freed by the consumer, outside the polls, so they stay live in the
    // region's figures; the buffer was freed at the end. At most 1,000 + 600 live, with the
    // buffer and the three items (the scratch of the last poll was freed before its item).
    assert_eq!(end.inclusive, stats((1_750, 7), (1_600, 4), (600, 3)));
    assert_eq!(end.self_stats, end.inclusive);
    // Polled after its end, it is counted no more.
    let _ = poll_next(&mut stream);
    drop(stream);
    assert_eq!(get("stream-threads").entries, 1);
}

#[test]
fn a_stream_dropped_before_it_ends_is_one_entry_its_drop_included() {
    let mut stream = Box::pin(chunks(10).in_region("stream-dropped"));
    let mut items = Vec::new();
    while items.len() < 2 {
        if let Poll::Ready(Some(item)) = poll_next(&mut stream) {
            items.push(item);
        }
    }
    assert!(regions().get("stream-dropped").is_none());
    drop(stream);
    let r = get("stream-dropped");
    assert_eq!(r.entries, 1);
    // The buffer (freed by the drop, inside the region), two scratch blocks, two items (kept).
    assert_eq!(r.inclusive, stats((1_400, 5), (1_300, 3), (300, 2)));
    drop(items);
}

#[test]
fn a_stream_never_polled_is_no_entry() {
    drop(chunks(1).in_region("stream-never-polled"));
    assert!(regions().get("stream-never-polled").is_none());
}

#[test]
fn in_current_region_counts_under_the_region_where_the_stream_was_made() {
    let outer = Region::enter("stream-outer");
    let stream = chunks(1).in_current_region();
    let child = chunks(1).in_region("child");
    drop(outer);
    for stream in [stream, child] {
        let mut stream = Box::pin(stream);
        while let Poll::Pending | Poll::Ready(Some(_)) = poll_next(&mut stream) {}
    }
    let outer = get("stream-outer");
    let child = get("stream-outer/child");
    assert_eq!(outer.entries, 2, "the guard's entry and the stream's");
    assert_eq!(child.entries, 1);
    // Each stream: the buffer, one scratch block and one item of 100 bytes.
    let one = stats((1_150, 3), (1_100, 2), (100, 1));
    assert_eq!(child.inclusive, one);
    // The outer region's own figures: the stream made in it, not the child's.
    assert_eq!(outer.self_stats, one);
}

#[test]
fn the_adapter_is_send_and_forwards_size_hint() {
    fn send<T: Send>(t: T) -> T {
        t
    }
    let mut stream = Box::pin(send(chunks(4).in_region("stream-size-hint")));
    assert_eq!(stream.size_hint(), (4, Some(4)));
    while !matches!(poll_next(&mut stream), Poll::Ready(Some(_))) {}
    assert_eq!(stream.size_hint(), (3, Some(3)));
}
