//! Issue 13 §5: the desktop's command surface is written once. Each command is one Rust function in
//! `src-tauri/src/commands*.rs` (`#[tauri::command]`); from them this test generates
//! - `src-tauri/src/command_list.rs`: the list `main.rs` hands to Tauri, and
//! - `ui/src/commands.ts`: the typed TypeScript client the UI calls (argument names, their types and
//!   the answer's type from the Rust signature; types named as ts-rs exports them to `ui/src/bindings`).
//!
//! It rewrites both files; the test command then fails if they changed (`git diff --exit-code`), as it
//! does for the bindings, so a command added or changed without regenerating never lands.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use syn::{FnArg, GenericArgument, Item, Pat, PathArguments, ReturnType, Type};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// Parameters Tauri fills itself (never sent by the UI).
const INJECTED: &[&str] = &["AppHandle", "State", "Window", "WebviewWindow", "Webview"];

struct Command {
    module: String,
    name: String,
    args: Vec<(String, String)>,
    answer: String,
}

/// A Rust type as the TypeScript type ts-rs gives it; names of exported types go into `imports`.
fn ts_type(ty: &Type, imports: &mut BTreeSet<String>) -> String {
    match ty {
        Type::Reference(r) => ts_type(&r.elem, imports),
        Type::Tuple(t) if t.elems.is_empty() => "void".to_string(),
        Type::Path(p) => {
            let last = p.path.segments.last().expect("a type name");
            let name = last.ident.to_string();
            let args: Vec<String> = match &last.arguments {
                PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        GenericArgument::Type(t) => Some(ts_type(t, imports)),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            match name.as_str() {
                "String" | "str" => "string".to_string(),
                "bool" => "boolean".to_string(),
                "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize"
                | "f32" | "f64" => "number".to_string(),
                "Option" => format!("{} | null", args[0]),
                "Vec" if args[0].contains(' ') => format!("({})[]", args[0]),
                "Vec" => format!("{}[]", args[0]),
                "CmdResult" | "Result" => args[0].clone(),
                _ => {
                    let binding = root().join(format!("ui/src/bindings/{name}.ts"));
                    assert!(
                        binding.exists(),
                        "{name} has no TypeScript binding: derive ts_rs::TS with #[ts(export)] on it"
                    );
                    imports.insert(name.clone());
                    if args.is_empty() {
                        name
                    } else {
                        format!("{name}<{}>", args.join(", "))
                    }
                }
            }
        }
        _ => panic!("a command argument or answer of a kind of type this generator does not know"),
    }
}

fn is_command(f: &syn::ItemFn) -> bool {
    f.attrs.iter().any(|a| {
        let path: Vec<String> = a
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        path == ["tauri", "command"]
    })
}

fn commands(imports: &mut BTreeSet<String>) -> Vec<Command> {
    let dir = root().join("src-tauri/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("src-tauri/src")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("commands") && n.ends_with(".rs"))
        })
        .collect();
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let module = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_string();
        let text = std::fs::read_to_string(&file).expect("source");
        let parsed = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for item in parsed.items {
            let Item::Fn(f) = item else { continue };
            if !is_command(&f) {
                continue;
            }
            let mut args = Vec::new();
            for input in &f.sig.inputs {
                let FnArg::Typed(arg) = input else { continue };
                let Type::Path(path) = arg.ty.as_ref() else {
                    panic!("{}: an argument of an unexpected type", f.sig.ident)
                };
                let last = path.path.segments.last().expect("type").ident.to_string();
                if INJECTED.contains(&last.as_str()) {
                    continue;
                }
                let Pat::Ident(name) = arg.pat.as_ref() else {
                    panic!("{}: an argument without a plain name", f.sig.ident)
                };
                args.push((name.ident.to_string(), ts_type(&arg.ty, imports)));
            }
            let answer = match &f.sig.output {
                ReturnType::Default => "void".to_string(),
                ReturnType::Type(_, ty) => ts_type(ty, imports),
            };
            found.push(Command {
                module: module.clone(),
                name: f.sig.ident.to_string(),
                args,
                answer,
            });
        }
    }
    found
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn typescript(commands: &[Command], imports: &BTreeSet<String>) -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/commands*.rs by tests/tests/command_layer.rs: do not edit.\n\
         // `cargo test -p jiceng-tests --test command_layer` regenerates it.\n\
         import { call } from \"./invoke\";\n",
    );
    for name in imports {
        out.push_str(&format!(
            "import type {{ {name} }} from \"./bindings/{name}\";\n"
        ));
    }
    out.push_str("\n/** Every command of the desktop shell, typed from its Rust signature. */\nexport const commands = {\n");
    for c in commands {
        let params: Vec<String> = c.args.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        let names: Vec<&str> = c.args.iter().map(|(n, _)| n.as_str()).collect();
        let body = if names.is_empty() {
            format!("call<{}>(\"{}\")", c.answer, c.name)
        } else {
            format!(
                "call<{}>(\"{}\", {{ {} }})",
                c.answer,
                c.name,
                names.join(", ")
            )
        };
        out.push_str(&format!(
            "  {}: ({}) => {body},\n",
            camel(&c.name),
            params.join(", ")
        ));
    }
    out.push_str("};\n");
    out
}

fn rust_list(commands: &[Command]) -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/commands*.rs by tests/tests/command_layer.rs: do not edit.\n\
         // `cargo test -p jiceng-tests --test command_layer` regenerates it.\n\n\
         /// Every command of the shell, as `main.rs` hands them to Tauri.\n\
         macro_rules! command_handler {\n    () => {\n        tauri::generate_handler![\n",
    );
    for c in commands {
        out.push_str(&format!("            crate::{}::{},\n", c.module, c.name));
    }
    out.push_str("        ]\n    };\n}\n");
    out
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn the_command_list_and_the_typescript_client_are_generated_from_the_rust_commands() {
    let mut imports = BTreeSet::new();
    let commands = commands(&mut imports);
    assert!(commands.len() > 50, "{} commands found", commands.len());
    let mut names = BTreeSet::new();
    for c in &commands {
        assert!(
            names.insert(c.name.clone()),
            "two commands named {}",
            c.name
        );
    }
    let ts = typescript(&commands, &imports);
    let rust = rust_list(&commands);
    // Known signatures, so the generator cannot quietly drop an argument or an answer.
    assert!(ts.contains(
        "  listCases: (query: CaseQuery) => call<Page<CaseRecord>>(\"list_cases\", { query }),"
    ));
    assert!(ts.contains("  currentUser: () => call<SessionUser | null>(\"current_user\"),"));
    assert!(rust.contains("crate::commands::app_info,"));
    write_if_changed(&root().join("ui/src/commands.ts"), &ts);
    write_if_changed(&root().join("src-tauri/src/command_list.rs"), &rust);
    println!("command layer: {} commands generated", commands.len());
}
