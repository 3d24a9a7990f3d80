//! A push service of the test's own on loopback (allowed by `push.allow_endpoints`) and a
//! browser's keys, to decrypt what it received as the browser would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tryvoha_push::web_push_native::p256::SecretKey;
use tryvoha_push::web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint as _;
use tryvoha_push::web_push_native::{Auth, decrypt};

use crate::support::TestApp;

/// One push request as the service received it.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A push service: `/push/ok/…` answers 201, `/push/gone/…` 410, `/push/busy/…` 429 once
/// (with `Retry-After: 1`) and then 201.
pub struct PushService {
    pub port: u16,
    received: Arc<Mutex<Vec<Pushed>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PushService {
    pub async fn start() -> PushService {
        PushService::start_on(0).await
    }

    /// On `port` (0: any free one).
    pub async fn start_on(port: u16) -> PushService {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let received: Arc<Mutex<Vec<Pushed>>> = Arc::default();
        let busy_seen = Arc::new(Mutex::new(false));
        let (log, busy) = (received.clone(), busy_seen.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (log, busy) = (log.clone(), busy.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut reader = BufReader::new(read);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                        let mut headers = HashMap::new();
                        loop {
                            let mut header = String::new();
                            reader.read_line(&mut header).await.expect("a header");
                            let header = header.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = header.split_once(':') {
                                headers.insert(name.trim().to_lowercase(), value.trim().to_owned());
                            }
                        }
                        let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).await.expect("the body");
                        let answer = if path.starts_with("/push/gone/") {
                            "410 Gone\r\n"
                        } else if path.starts_with("/push/busy/")
                            && !std::mem::replace(&mut *busy.lock().expect("lock"), true)
                        {
                            "429 Too Many Requests\r\nRetry-After: 1\r\n"
                        } else {
                            "201 Created\r\n"
                        };
                        log.lock().expect("lock").push(Pushed { path, headers, body });
                        let reply = format!("HTTP/1.1 {answer}Content-Length: 0\r\n\r\n");
                        if write.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        PushService { port, received, task }
    }

    pub fn to(&self, path_prefix: &str) -> Vec<Pushed> {
        self.received.lock().expect("lock").iter().filter(|p| p.path.starts_with(path_prefix)).cloned().collect()
    }

    pub async fn wait_until(&self, what: &str, done: impl Fn(&PushService) -> bool) {
        for _ in 0..400 {
            if done(self) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("waited in vain for {what}: {:?}", self.received.lock().expect("lock"));
    }
}

/// A browser: its key pair and auth secret.
pub struct Browser {
    pub secret: SecretKey,
    pub auth: [u8; 16],
    pub endpoint: String,
}

impl Browser {
    pub fn new(seed: u8, endpoint: String) -> Browser {
        Browser { secret: SecretKey::from_slice(&[seed; 32]).expect("a scalar"), auth: [seed; 16], endpoint }
    }

    pub fn subscription(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            }
        })
    }

    pub fn read(&self, pushed: &Pushed) -> String {
        let plain = decrypt(pushed.body.clone(), &self.secret, &Auth::clone_from_slice(&self.auth)).expect("decrypts");
        String::from_utf8(plain).expect("UTF-8")
    }
}

pub async fn subscribed_count(app: &TestApp) -> String {
    let metrics =
        app.client.get(format!("{}/metrics", app.base)).send().await.expect("metrics").text().await.expect("text");
    metrics.lines().find(|l| l.starts_with("tryvoha_push_subscriptions ")).unwrap_or_default().to_owned()
}
