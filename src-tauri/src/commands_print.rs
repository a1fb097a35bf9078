//! Issue 13 §2: a screen saved as an A4 PDF through the engine's own print path, so the file is
//! exactly what the printer would get (the screen's `@media print` rules, `@page` margins, page
//! breaks). Offices forward reports upwards as PDFs as often as on paper, and it lets the end to end
//! test read a printed page: WebDriver has no print command on WebKitGTK.

use crate::commands::{current, export_failed, export_target, with_store, CmdResult, UiError};
use crate::state::AppState;
use tauri::{AppHandle, State, WebviewWindow};

/// How long the engine may take to lay out and write the pages.
const PRINT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Prints the window's page, as it stands, to an A4 PDF: to `path`, or else to Downloads as
/// `<title>_<today>.pdf`; returns where it was written. The UI puts the screen into its print
/// state first (as before `window.print()`).
#[tauri::command(rename_all = "snake_case")]
pub async fn save_pdf(
    app: AppHandle,
    state: State<'_, AppState>,
    window: WebviewWindow,
    title: String,
    path: Option<String>,
) -> CmdResult<String> {
    current(&state)?;
    let today = with_store(&app, |s| {
        Ok(jiceng_core::shanghai::today(s.corrected_wall_millis()?))
    })
    .await?;
    let stem = jiceng_core::table_export::file_stem(&title, &today.format("%Y-%m-%d").to_string());
    let target = export_target(&app, &state, &stem, "pdf", path);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    print_to_file(&window, &target, done_tx)?;
    match tokio::time::timeout(PRINT_TIMEOUT, done_rx).await {
        Ok(Ok(Ok(()))) if target.is_file() => {
            let file = target.clone();
            tokio::task::spawn_blocking(move || compact(&file))
                .await
                .map_err(|e| export_failed(&target, e))?;
            Ok(target.to_string_lossy().into_owned())
        }
        Ok(Ok(Ok(()))) => Err(export_failed(&target, "打印程序没有生成文件")),
        Ok(Ok(Err(why))) => Err(export_failed(&target, why)),
        Ok(Err(_)) | Err(_) => Err(UiError::new(
            "print_timeout",
            "生成 PDF 超时，请稍后重试；若仍不行，请用“打印（A4）”选择“打印到文件”。",
        )),
    }
}

/// The engine embeds whole TrueType fonts (a 生僻字 fallback font is 22 MB): cut them to the
/// glyphs used (core::pdf_fonts). The printed file stays as it is when that fails.
fn compact(file: &std::path::Path) {
    let result = std::fs::read(file)
        .map_err(|e| e.to_string())
        .and_then(|printed| {
            jiceng_core::pdf_fonts::compact_pdf_fonts(&printed).map_err(|e| e.to_string())
        })
        .and_then(|(bytes, stats)| {
            if stats.fonts_subset == 0 {
                return Ok(stats);
            }
            let part = file.with_extension("pdf.part");
            std::fs::write(&part, bytes)
                .and_then(|()| std::fs::rename(&part, file))
                .map(|()| stats)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(stats) => eprintln!(
            "[jiceng] saved {}: {} fonts subset, {} -> {} bytes",
            file.display(),
            stats.fonts_subset,
            stats.bytes_before,
            stats.bytes_after
        ),
        Err(e) => eprintln!("[jiceng] {} kept as printed: {e}", file.display()),
    }
}

#[cfg(target_os = "linux")]
fn print_to_file(
    window: &WebviewWindow,
    target: &std::path::Path,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
) -> CmdResult<()> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use webkit2gtk::PrintOperationExt;

    let uri = format!("file://{}", target.to_string_lossy());
    let ran = window.with_webview(move |webview| {
        // On the GTK main thread: the print operation and its signals live there.
        let settings = gtk::PrintSettings::new();
        settings.set_printer("Print to File");
        settings.set(gtk::PRINT_SETTINGS_OUTPUT_FILE_FORMAT, Some("pdf"));
        settings.set(gtk::PRINT_SETTINGS_OUTPUT_URI, Some(&uri));
        let page = gtk::PageSetup::new();
        page.set_paper_size(&gtk::PaperSize::new(Some(gtk::PAPER_NAME_A4)));
        let operation = webkit2gtk::PrintOperation::new(&webview.inner());
        operation.set_print_settings(&settings);
        operation.set_page_setup(&page);
        // `failed` comes before `finished`; whichever answers first is the answer.
        let done = Rc::new(RefCell::new(Some(done)));
        let on_fail = done.clone();
        operation.connect_failed(move |_, e| {
            if let Some(tx) = on_fail.borrow_mut().take() {
                let _ = tx.send(Err(e.to_string()));
            }
        });
        operation.connect_finished(move |_| {
            if let Some(tx) = done.borrow_mut().take() {
                let _ = tx.send(Ok(()));
            }
        });
        operation.print();
    });
    ran.map_err(|e| export_failed(target, e))
}

#[cfg(not(target_os = "linux"))]
fn print_to_file(
    _window: &WebviewWindow,
    target: &std::path::Path,
    _done: tokio::sync::oneshot::Sender<Result<(), String>>,
) -> CmdResult<()> {
    // The clerk reads this message: zh-CN, with what to do instead.
    eprintln!(
        "[jiceng] save_pdf is built for WebKitGTK only: {}",
        target.display()
    );
    Err(UiError::new(
        "pdf_unsupported",
        "本机系统暂不支持直接另存为 PDF，请用“打印（A4）”并选择 PDF 打印机。",
    ))
}
