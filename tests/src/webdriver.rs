//! A minimal W3C WebDriver client (over reqwest) for driving the desktop through tauri-driver.

use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// W3C names the element reference key "element-6066-11e4-a4c3-d42a7b8fbe8b"; WebKitWebDriver answers
/// with its own "element-6066-11e4-a52e-…", so any key with this prefix is taken.
const ELEMENT_KEY_PREFIX: &str = "element-6066-11e4-";

fn element_id(value: &Value) -> Option<String> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with(ELEMENT_KEY_PREFIX))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

pub struct WebDriver {
    base: String,
    session: String,
    http: reqwest::Client,
}

#[derive(Clone, Debug)]
pub struct Element(pub String);

impl WebDriver {
    /// Opens a session that launches `application` (tauri-driver's `tauri:options`).
    pub async fn launch(port: u16, application: &str) -> Result<WebDriver, String> {
        jiceng_core::tls::ensure_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        let base = format!("http://127.0.0.1:{port}");
        let body = json!({
            "capabilities": { "alwaysMatch": { "browserName": "wry", "tauri:options": { "application": application } } }
        });
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let session = response["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {response}"))?
            .to_string();
        Ok(WebDriver {
            base,
            session,
            http,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        if let Some(error) = response["value"]["error"].as_str() {
            return Err(format!("{path}: {error}: {}", response["value"]["message"]));
        }
        Ok(response["value"].clone())
    }

    pub async fn find(&self, css: &str) -> Result<Element, String> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        element_id(&value)
            .map(Element)
            .ok_or_else(|| format!("no element {css}"))
    }

    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>, String> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        Ok(value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| element_id(e).map(Element))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Waits until `css` matches a displayed element.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(element) = self.find(css).await {
                if self.displayed(&element).await.unwrap_or(false) {
                    return Ok(element);
                }
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {css}"));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until a JavaScript expression is truthy.
    pub async fn wait_until(&self, expression: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let ok = self
                .script(&format!("return !!({expression});"), json!([]))
                .await
                .map(|v| v.as_bool().unwrap_or(false))
                .unwrap_or(false);
            if ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting until {expression}"));
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    pub async fn displayed(&self, element: &Element) -> Result<bool, String> {
        Ok(self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/displayed", element.0),
                None,
            )
            .await?
            .as_bool()
            .unwrap_or(false))
    }

    /// Clicks like a user; while something briefly covers the element (a toast, a loading mask) it
    /// retries for a few seconds instead of failing at once.
    pub async fn click(&self, element: &Element) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let result = self
                .call(
                    reqwest::Method::POST,
                    &format!("/element/{}/click", element.0),
                    Some(json!({})),
                )
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) if e.contains("intercepted") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn click_css(&self, css: &str) -> Result<(), String> {
        let element = self.wait_for(css, Duration::from_secs(15)).await?;
        match self.click(&element).await {
            // WebKitWebDriver does not scroll inside an overflowing container: bring it into view first.
            Err(e) if e.contains("not interactable") => {
                self.script(
                    "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
                    json!([css]),
                )
                .await?;
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.click(&element).await
            }
            other => other,
        }
        .map_err(|e| format!("click {css}: {e}"))
    }

    pub async fn text(&self, element: &Element) -> Result<String, String> {
        Ok(self
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", element.0),
                None,
            )
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub async fn script(&self, body: &str, args: Value) -> Result<Value, String> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": body, "args": args})),
        )
        .await
    }

    /// Types into an input: WebDriver keystrokes first; if the engine could not type some characters
    /// (4-byte 生僻字 through synthetic key events), sets the value the way a paste would.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let element = self.wait_for(css, Duration::from_secs(15)).await?;
        self.click(&element)
            .await
            .map_err(|e| format!("click {css}: {e}"))?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        )
        .await?;
        if !text.is_empty() {
            self.call(
                reqwest::Method::POST,
                &format!("/element/{}/value", element.0),
                Some(json!({"text": text})),
            )
            .await?;
        }
        let value = self
            .script(
                "return document.querySelector(arguments[0]).value;",
                json!([css]),
            )
            .await?;
        if value.as_str() != Some(text) {
            self.script(
                "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
                 el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true }));",
                json!([css, text]),
            )
            .await?;
        }
        Ok(())
    }

    /// Presses Enter in an input (date pickers commit typed text on Enter).
    pub async fn press_enter(&self, css: &str) -> Result<(), String> {
        let element = self.find(css).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({"text": "\u{E007}"})),
        )
        .await
        .map(|_| ())
    }

    pub async fn screenshot(&self, path: &std::path::Path) -> Result<(), String> {
        use base64::Engine;
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, bytes).map_err(|e| e.to_string())
    }

    pub async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}
