//! What the server tells its operator when HTTP/2 cuts a call off: a real process, a client
//! speaking raw HTTP/2 that breaks the protocol while its feed is open, and the server's log
//! naming the GOAWAY it sent and why.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

mod common;
use common::{Process, mint};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goaway_the_server_sends_is_logged_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Process::new("a", &["registry", "screening"], dir.path(), Vec::new());
    a.start();
    a.wait_serving(&["assay.screening.v1.ScreeningService"])
        .await;
    let token = mint(dir.path(), "service:listing-pipeline");

    let mut tcp = TcpStream::connect(a.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").unwrap();
    tcp.write_all(&frame(0x4, 0, 0, &[])).unwrap(); // SETTINGS
    // A feed: its headers, then the first bytes of a message, the stream left open.
    let headers: Vec<u8> = [
        (":method", "POST"),
        (":scheme", "http"),
        (
            ":path",
            "/assay.screening.v1.ScreeningService/ScreenListings",
        ),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("authorization", &format!("Bearer {token}")),
    ]
    .iter()
    .flat_map(|(name, value)| literal(name, value))
    .collect();
    tcp.write_all(&frame(0x1, 0x4, 1, &headers)).unwrap(); // HEADERS, END_HEADERS
    tcp.write_all(&frame(0x0, 0, 1, &[0, 0, 0, 0, 200, 10]))
        .unwrap(); // DATA
    std::thread::sleep(Duration::from_millis(300));
    // DATA on stream 0 is a connection error: PROTOCOL_ERROR.
    tcp.write_all(&frame(0x0, 0, 0, b"nonsense")).unwrap();

    // The server answers with GOAWAY PROTOCOL_ERROR (type 0x7, error code 1).
    let mut received = Vec::new();
    let goaway = loop {
        let mut buffer = [0u8; 4096];
        match tcp.read(&mut buffer) {
            Ok(0) | Err(_) => break None,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
        if let Some(code) = goaway_code(&received) {
            break Some(code);
        }
    };
    assert_eq!(goaway, Some(1), "GOAWAY PROTOCOL_ERROR");

    // And says so in its log, at the default level of a production filter.
    let log = dir.path().join("a.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("server cut the call off") && text.contains("PROTOCOL_ERROR") {
            assert!(text.contains("GOAWAY"), "{text}");
            assert!(text.contains("ScreenListings"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "not logged:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP/2 frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut bytes = vec![length[1], length[2], length[3], kind, flags];
    bytes.extend_from_slice(&stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// An HPACK literal header field without indexing, new name (RFC 7541, 6.2.2).
fn literal(name: &str, value: &str) -> Vec<u8> {
    let mut bytes = vec![0];
    for text in [name, value] {
        bytes.extend(integer(text.len()));
        bytes.extend_from_slice(text.as_bytes());
    }
    bytes
}

/// An HPACK integer with a 7-bit prefix and no Huffman flag (RFC 7541, 5.1).
fn integer(mut value: usize) -> Vec<u8> {
    if value < 127 {
        return vec![value as u8];
    }
    let mut bytes = vec![127];
    value -= 127;
    while value >= 128 {
        bytes.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    bytes.push(value as u8);
    bytes
}

/// The error code of the first GOAWAY among whole frames in `bytes`.
fn goaway_code(mut bytes: &[u8]) -> Option<u32> {
    while bytes.len() >= 9 {
        let length =
            usize::from(bytes[0]) << 16 | usize::from(bytes[1]) << 8 | usize::from(bytes[2]);
        if bytes.len() < 9 + length {
            return None;
        }
        let payload = &bytes[9..9 + length];
        if bytes[3] == 0x7 && payload.len() >= 8 {
            return Some(u32::from_be_bytes(payload[4..8].try_into().unwrap()));
        }
        bytes = &bytes[9 + length..];
    }
    None
}
