//! The desktop app under test: its own Xvfb, tauri-driver and WebDriver session (the end to end and
//! the cold-start bench share it).

use crate::webdriver::WebDriver;
use crate::{free_port, target_dir, TestServer};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills a helper process on drop; SIGTERM first so tauri-driver releases WebKitWebDriver (BUILD-NOTES).
pub struct Guard(pub Child, pub &'static str);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        for _ in 0..20 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.1);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on a display nobody uses and waits for its socket.
pub fn start_xvfb() -> (Guard, String) {
    let number = (90 + free_port() % 100..400)
        .find(|n| {
            !std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("a free X display number");
    let display = format!(":{number}");
    let child = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (apt package xvfb) must be installed: run scripts/test.sh");
    let socket = format!("/tmp/.X11-unix/X{number}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::path::Path::new(&socket).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "Xvfb did not start on {display}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Guard(child, "Xvfb"), display)
}

/// The desktop app under its own Xvfb and tauri-driver, with its own data dir.
pub struct Desktop {
    pub wd: WebDriver,
    _driver: Guard,
    _xvfb: Guard,
}

pub async fn start_desktop(server: &TestServer, label: &str) -> Desktop {
    let app = target_dir().join("jiceng-desktop");
    assert!(
        app.exists(),
        "{} is missing: build it with `npm run desktop:build` in ui/",
        app.display()
    );
    start_app(server, label, &app, true).await
}

/// The app at `app` under its own Xvfb and tauri-driver. With `own_data_dir` it keeps its data in the
/// test's directory (JICENG_DATA_DIR); without, where the OS puts a user's data (XDG_DATA_HOME, here
/// a directory of the test).
pub async fn start_app(
    server: &TestServer,
    label: &str,
    app: &std::path::Path,
    own_data_dir: bool,
) -> Desktop {
    start_app_in(&server.dir, label, app, own_data_dir).await
}

/// [`start_app`] with its data (`<dir>/<label>`, or the user's data directory under
/// `<dir>/<label>-xdg`) in `dir`.
pub async fn start_app_in(
    dir: &std::path::Path,
    label: &str,
    app: &std::path::Path,
    own_data_dir: bool,
) -> Desktop {
    let (xvfb, display) = start_xvfb();
    let data_dir = dir.join(label);
    // Both ports reserved at once: two free_port() calls in a row can return the same port, and then
    // tauri-driver's WebKitWebDriver cannot start (seen as every session request failing).
    let (driver_port, native_port) = {
        let a = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let b = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        (
            a.local_addr().expect("addr").port(),
            b.local_addr().expect("addr").port(),
        )
    };
    let driver = Command::new("tauri-driver")
        .args([
            "--port",
            &driver_port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .env("DISPLAY", &display)
        .envs(own_data_dir.then_some(("JICENG_DATA_DIR", &data_dir)))
        .env("XDG_DATA_HOME", dir.join(format!("{label}-xdg")))
        // The USB panel's fallback folder lands in the test's directory, not the machine's home.
        .env("HOME", dir.join(format!("{label}-home")))
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tauri-driver must be installed: run scripts/test.sh");
    let driver = Guard(driver, "tauri-driver");
    // tauri-driver needs a moment (longer on a loaded machine): wait until it accepts connections.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", driver_port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "tauri-driver did not listen on {driver_port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The first session request can race tauri-driver's own start of WebKitWebDriver: retry briefly.
    let mut attempt = 0;
    let wd = loop {
        match WebDriver::launch(driver_port, app.to_str().expect("utf-8 path")).await {
            Ok(wd) => break wd,
            Err(e) if attempt < 5 => {
                eprintln!("WebDriver session not ready ({e}); retrying");
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => panic!("WebDriver session: {e}"),
        }
    };
    Desktop {
        wd,
        _driver: driver,
        _xvfb: xvfb,
    }
}
