//! The chunked decoder fed the same body in data-driven pieces:
//! - it never panics, never consumes more than it was given, and its data borrows from its input;
//! - it never stalls: `consumed == 0 && !done` only when it was given nothing;
//! - the decoded data, the outcome (done at which byte, error, or needs more) and the error are the
//!   same whether the body comes whole, one byte at a time, or in the pieces the input asks for;
//! - after `done` or an error it stays there.
//!
//! Input layout: byte 0 = k (mod 16), bytes 1..=k = piece lengths, the rest = the body stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use staticd_core::body::{ChunkedDecoder, ChunkedError};
use staticd_core_fuzz::within;

#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The body ended after this many bytes of the stream.
    Done(usize),
    Error(ChunkedError),
    NeedsMore,
}

fn decode_in_pieces<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> (Vec<u8>, End) {
    let mut decoder = ChunkedDecoder::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut data = Vec::new();
    let mut offset = 0usize;
    for piece in pieces {
        pending.extend_from_slice(piece);
        loop {
            let step = match decoder.decode(&pending) {
                Ok(step) => step,
                Err(e) => {
                    assert_eq!(decoder.decode(b"0\r\n\r\n"), Err(e), "an error must stick");
                    return (data, End::Error(e));
                }
            };
            assert!(
                step.consumed <= pending.len(),
                "consumed {} of {}",
                step.consumed,
                pending.len()
            );
            assert!(
                within(&pending[..step.consumed], step.data),
                "data outside the consumed input"
            );
            data.extend_from_slice(step.data);
            let (consumed, done) = (step.consumed, step.done);
            offset += consumed;
            pending.drain(..consumed);
            if done {
                assert!(decoder.is_done());
                let again = decoder.decode(&pending).expect("decode after done");
                assert!(
                    again.done && again.consumed == 0 && again.data.is_empty(),
                    "{again:?}"
                );
                return (data, End::Done(offset));
            }
            if consumed == 0 {
                assert!(
                    pending.is_empty(),
                    "stalled with {} bytes unread",
                    pending.len()
                );
                break;
            }
        }
    }
    (data, End::NeedsMore)
}

fuzz_target!(|input: &[u8]| {
    let Some((&k, rest)) = input.split_first() else {
        return;
    };
    let k = usize::from(k % 16).min(rest.len());
    let (lengths, body) = rest.split_at(k);

    let whole = decode_in_pieces([body]);
    if let End::Done(n) = whole.1 {
        assert!(body[..n].ends_with(b"\r\n"), "done before the final CRLF");
    }

    let mut pieces = Vec::new();
    let mut left = body;
    for &len in lengths {
        let (piece, tail) = left.split_at(usize::from(len).min(left.len()));
        pieces.push(piece);
        left = tail;
    }
    pieces.push(left);
    let split = decode_in_pieces(pieces);
    assert_eq!(split, whole, "pieces {lengths:?} disagree with one piece");

    if body.len() <= 4096 {
        let bytewise = decode_in_pieces(body.chunks(1));
        assert_eq!(
            bytewise, whole,
            "one byte at a time disagrees with one piece"
        );
    }
});
