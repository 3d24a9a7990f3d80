use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::{fix_send_buffer, write_all};

/// A stream's socket (fixed send buffer) and its client (a 4 KiB receive window).
async fn connected() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    let client = socket.connect(listener.local_addr().expect("address")).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    fix_send_buffer(&server);
    (server, client)
}

#[tokio::test]
async fn a_client_that_reads_slowly_is_waited_for_and_one_that_stops_is_cut() {
    // 128 KiB, several times what the buffers hold, to a client that takes 8 KiB every 100 ms:
    // the write takes well over its 500 ms timeout, but the socket takes something within it.
    let bytes = vec![b'x'; 128 * 1024];
    let (server, mut client) = connected().await;
    let reader = tokio::spawn(async move {
        let (mut total, mut buffer) = (0, vec![0u8; 8 * 1024]);
        while total < 128 * 1024 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            match client.read(&mut buffer).await.expect("read") {
                0 => break,
                read => total += read,
            }
        }
        total
    });
    write_all(&server, &bytes, Duration::from_millis(500)).await.expect("a slow reader is waited for");
    assert_eq!(reader.await.expect("reader"), bytes.len());

    let (server, _silent) = connected().await;
    let error = write_all(&server, &bytes, Duration::from_millis(500)).await.expect_err("a silent client is cut");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
}
