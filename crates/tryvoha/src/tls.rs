//! The CLI's HTTP client, able to reach an `https://` server.
//!
//! TLS is rustls with the *ring* provider (small, quick to build, permissive licences) and the
//! platform verifier: a server certificate is trusted when the operating system trusts it, so an
//! operator's internal CA works once the system knows it, as it does for `curl`. reqwest does not
//! choose a provider itself when built this way, so it is installed here, once per process,
//! before any client is built.

use anyhow::Context;

/// Makes ring the process's TLS provider. Calling it again, or after another part of the process
/// installed a provider, changes nothing.
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // Err means a provider is already installed: that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for the server's API, with TLS ready for `https://` servers.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    client_builder().build().context("cannot set up the HTTP client")
}

fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clap::Parser;
    use reqwest::Method;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::TlsAcceptor;

    use super::*;
    use crate::client::{Connection, call};

    /// A one-request HTTPS server on 127.0.0.1 with a fresh self-signed certificate; answers
    /// `{"ok":true}` to whatever it is asked. Returns its base URL and the certificate (DER).
    async fn https_server() -> (String, Vec<u8>) {
        install_crypto_provider();
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
        let certificate = certified.cert.der().to_vec();
        let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).expect("key");
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![certificate.clone().into()], key)
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("https://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            // A client that refuses the certificate ends the handshake: nothing to answer.
            let Ok(mut stream) = acceptor.accept(socket).await else { return };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(read) => request.extend_from_slice(&buffer[..read]),
                }
            }
            let body = r#"{"ok":true}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
        (base, certificate)
    }

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        connection: Connection,
    }

    #[tokio::test]
    async fn the_client_speaks_tls_to_a_server_whose_certificate_it_trusts() {
        let (base, certificate) = https_server().await;
        let trusted = reqwest::Certificate::from_der(&certificate).expect("certificate");
        let client = client_builder().tls_certs_merge([trusted]).build().expect("client");
        let response = client.get(format!("{base}/healthz")).send().await.expect("an answer over TLS");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(response.text().await.expect("body"), r#"{"ok":true}"#);
    }

    #[tokio::test]
    async fn a_server_certificate_nobody_trusts_is_reported_as_such() {
        let (base, _) = https_server().await;
        let flags = Flags::parse_from(["tryvoha", "--server", &base]);
        let error = call(&flags.connection, Method::GET, "/api/v1/alerts", None).await.expect_err("untrusted");
        let said = format!("{error:#}");
        assert!(said.starts_with(&format!("cannot reach the server at {base}")), "{said}");
        assert!(said.contains("invalid peer certificate: UnknownIssuer"), "{said}");
    }
}
