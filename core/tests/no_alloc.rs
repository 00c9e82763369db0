//! Proof that parsing a head, inspecting it and decoding a chunked body allocate nothing: a counting
//! global allocator that counts only on the thread and in the span being measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use staticd_core::body::{ChunkedDecoder, Framing, inspect_request, keep_alive};
use staticd_core::parse::{Header, ParserConfig, Status, parse_request};

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator may run while this thread's locals are being torn down.
    let counting = COUNTING.try_with(Cell::get).unwrap_or(false);
    if counting {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the bookkeeping touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

const CHROMIUM: &[u8] = include_bytes!("../benches/chromium_get.bin");

const CHUNKED_POST: &[u8] =
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";

#[test]
fn the_counter_sees_an_allocation() {
    let count = allocations_in(|| {
        let boxed = std::hint::black_box(Box::new(7u64));
        drop(boxed);
    });
    assert_eq!(count, 1);
}

#[test]
fn parse_inspect_and_decode_allocate_nothing() {
    let config = ParserConfig::default();
    let mut headers = [Header::EMPTY; 32];
    let body = b"5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n";
    let mut decoded_bytes = 0usize;
    let mut framing = None;
    let mut errors = 0usize;

    let count = allocations_in(|| {
        for _ in 0..100 {
            match parse_request(&config, CHROMIUM, &mut headers) {
                Ok(Status::Complete((_, req))) => {
                    framing = inspect_request(&req).ok().map(|info| info.framing);
                    std::hint::black_box(keep_alive(req.version, req.headers));
                }
                _ => errors += 1,
            }
            // The error paths allocate nothing either.
            for bad in [
                &b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"[..],
                b"GET /\x00 HTTP/1.1\r\n\r\n",
                b"GET / HTTP/2.0\r\n\r\n",
                CHUNKED_POST,
            ] {
                match parse_request(&config, bad, &mut headers) {
                    Ok(Status::Complete((_, req))) => {
                        if inspect_request(&req).is_err() {
                            errors += 1;
                        }
                    }
                    _ => errors += 1,
                }
            }
            let mut decoder = ChunkedDecoder::new();
            let mut input = &body[..];
            while let Ok(step) = decoder.decode(input) {
                decoded_bytes += step.data.len();
                input = &input[step.consumed..];
                if step.done || step.consumed == 0 {
                    break;
                }
            }
        }
    });

    assert_eq!(count, 0, "the core allocated");
    assert_eq!(framing, Some(Framing::None));
    assert_eq!(errors, 400);
    assert_eq!(decoded_bytes, 100 * 31);
}
