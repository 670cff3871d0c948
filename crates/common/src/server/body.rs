//! The bodies the guard wraps around each call: a request body held to its RPC's message
//! size (read from each message's length prefix), whose transport errors are logged; and a
//! response body that holds the call's permits for as long as it is open.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::OwnedSemaphorePermit;

pin_project_lite::pin_project! {
    /// A response body that holds the call's permits until the body ends or is dropped:
    /// a stream counts for as long as it is open, not just until its headers are sent.
    pub(super) struct Held<B> {
        #[pin]
        inner: B,
        permits: (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
    }
}

impl<B> Held<B> {
    pub(super) fn new(
        inner: B,
        permits: (OwnedSemaphorePermit, Option<OwnedSemaphorePermit>),
    ) -> Self {
        Self { inner, permits }
    }
}

impl<B: http_body::Body> http_body::Body for Held<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// A request body held to its RPC's message size, and whose transport errors are
    /// logged: a stream reset or GOAWAY that ends a call in flight says why.
    pub(super) struct Checked<B> {
        #[pin]
        inner: B,
        limit: usize,
        frame: FrameState,
        path: String,
        // Set once a message over the limit was found: the body ends with this error,
        // after the messages before it.
        refused: Option<u64>,
        // The error was given: nothing more is read.
        ended: bool,
    }
}

/// Where a request body is in gRPC's framing: each message is a compressed flag, a
/// big-endian u32 length, then that many bytes.
#[derive(Debug, Default)]
struct FrameState {
    header: [u8; 5],
    header_len: usize,
    /// Bytes of the current message still to come.
    remaining: u64,
}

/// A message over the RPC's limit, found in a chunk of the body.
#[derive(Debug, PartialEq, Eq)]
struct TooLarge {
    /// Its length, from its prefix.
    length: u64,
    /// How many bytes of the chunk come before its prefix: the messages before it, which
    /// are still delivered.
    before: usize,
}

impl FrameState {
    /// Follows `chunk` through the framing; the first message longer than `limit`, if any.
    fn advance(&mut self, chunk: &[u8], limit: usize) -> Result<(), TooLarge> {
        let mut at = 0;
        let mut header_start = 0;
        while at < chunk.len() {
            if self.remaining > 0 {
                let take =
                    (chunk.len() - at).min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= take as u64;
                at += take;
                continue;
            }
            if self.header_len == 0 {
                header_start = at;
            }
            let take = (chunk.len() - at).min(5 - self.header_len);
            self.header[self.header_len..self.header_len + take]
                .copy_from_slice(&chunk[at..at + take]);
            self.header_len += take;
            at += take;
            if self.header_len == 5 {
                self.header_len = 0;
                let length = u64::from(u32::from_be_bytes([
                    self.header[1],
                    self.header[2],
                    self.header[3],
                    self.header[4],
                ]));
                if length > limit as u64 {
                    return Err(TooLarge {
                        length,
                        before: header_start,
                    });
                }
                self.remaining = length;
            }
        }
        Ok(())
    }
}

impl<B> Checked<B> {
    /// `inner`, held to messages of at most `limit` bytes, for the RPC at `path`.
    pub(super) fn new(inner: B, limit: usize, path: String) -> Self {
        Self {
            inner,
            limit,
            frame: FrameState::default(),
            path,
            refused: None,
            ended: false,
        }
    }
}

impl<B> http_body::Body for Checked<B>
where
    B: http_body::Body<Data = tonic::codegen::Bytes>,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Data = tonic::codegen::Bytes;
    type Error = tonic::codegen::StdError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        if let Some(length) = this.refused.take() {
            *this.ended = true;
            tracing::warn!(method = %this.path, length, limit = *this.limit, "request message refused: too large");
            let status = crate::error::status(
                tonic::Code::ResourceExhausted,
                crate::error::reason::REQUEST_TOO_LARGE,
                format!(
                    "request message of {length} bytes is larger than the {} bytes this RPC takes",
                    this.limit
                ),
            );
            return Poll::Ready(Some(Err(status.into())));
        }
        match std::task::ready!(this.inner.poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref()
                    && let Err(too_large) = this.frame.advance(data, *this.limit)
                {
                    *this.refused = Some(too_large.length);
                    // The messages before it still count: a feed answers them first.
                    let before = data.slice(..too_large.before);
                    return Poll::Ready(Some(Ok(http_body::Frame::data(before))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => {
                let error = error.into();
                log_transport_error(this.path, &*error);
                Poll::Ready(Some(Err(error)))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Logs why a call's request stream broke off: a GOAWAY or stream reset this server sent
/// (a warning: a client was cut off) or one the client sent (it went away).
fn log_transport_error(path: &str, error: &(dyn std::error::Error + 'static)) {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(h2) = error.downcast_ref::<h2::Error>() {
            let reason = h2.reason().map(|r| format!("{r:?}"));
            let kind = if h2.is_go_away() {
                "GOAWAY"
            } else {
                "RST_STREAM"
            };
            if h2.is_remote() {
                tracing::debug!(method = %path, kind, reason, "client ended the call: {h2}");
            } else {
                tracing::warn!(method = %path, kind, reason, "server cut the call off: {h2}");
            }
            return;
        }
        source = error.source();
    }
    tracing::debug!(method = %path, "request stream broke off: {error}");
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    /// A gRPC message frame of `length` bytes.
    fn frame(length: u32) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.resize(5 + length as usize, b'x');
        bytes
    }

    /// A request body that yields the given chunks.
    struct Chunks(std::collections::VecDeque<tonic::codegen::Bytes>);

    impl http_body::Body for Chunks {
        type Data = tonic::codegen::Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            Poll::Ready(
                self.0
                    .pop_front()
                    .map(|chunk| Ok(http_body::Frame::data(chunk))),
            )
        }
    }

    #[tokio::test]
    async fn a_body_hands_on_the_messages_before_one_too_large_then_ends_with_the_refusal() {
        let first = [frame(10), frame(0), frame(100)].concat();
        let mut body = Checked {
            inner: Chunks([first.into(), frame(3).into()].into()),
            limit: 99,
            frame: FrameState::default(),
            path: "/assay.test.v1.TestService/Feed".to_owned(),
            refused: None,
            ended: false,
        };
        async fn next<B: http_body::Body + Unpin>(
            body: &mut B,
        ) -> Option<Result<http_body::Frame<B::Data>, B::Error>> {
            std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await
        }
        let before = next(&mut body).await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(before.len(), frame(10).len() + frame(0).len());
        let refusal = next(&mut body).await.unwrap().unwrap_err();
        let status = tonic::Status::from_error(refusal);
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(
            status.message().contains("100 bytes"),
            "{}",
            status.message()
        );
        assert!(
            next(&mut body).await.is_none(),
            "nothing is read after the refusal"
        );
    }

    #[test]
    fn message_lengths_are_read_from_their_prefix_however_the_body_is_split() {
        let stream: Vec<u8> = [frame(10), frame(0), frame(100), frame(7)].concat();
        for chunk in [1, 2, 3, 5, 6, 64, stream.len()] {
            let mut state = FrameState::default();
            for piece in stream.chunks(chunk) {
                assert_eq!(state.advance(piece, 100), Ok(()), "chunks of {chunk}");
            }
            // Refused at the third message's prefix: everything before it is delivered.
            let mut state = FrameState::default();
            let mut delivered = 0;
            let refused = stream
                .chunks(chunk)
                .find_map(|piece| match state.advance(piece, 99) {
                    Ok(()) => {
                        delivered += piece.len();
                        None
                    }
                    Err(too_large) => {
                        delivered += too_large.before;
                        Some(too_large.length)
                    }
                });
            assert_eq!(refused, Some(100), "chunks of {chunk}");
            // (A prefix split across chunks has its first bytes delivered already.)
            let third = frame(10).len() + frame(0).len();
            assert!(
                (third..=third + 4).contains(&delivered),
                "chunks of {chunk}: {delivered} bytes delivered"
            );
        }
        // Refused from the five-byte prefix alone, before any of the message arrives.
        let mut state = FrameState::default();
        let prefix = [0, 0xff, 0xff, 0xff, 0xff];
        let too_large = TooLarge {
            length: u64::from(u32::MAX),
            before: 0,
        };
        assert_eq!(state.advance(&prefix, 1 << 20), Err(too_large));
    }
}
