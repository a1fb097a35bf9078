//! Issue 13 §2: the dashboards' A4 PDF, as WebKitGTK prints it, embeds a 生僻字 fallback font whole
//! (HanaMinA, 22 MB). `pdf_fonts` cuts each embedded TrueType font to the glyphs the pages name and
//! points the CIDs at their new glyphs. Built here on the fallback font the test command installs
//! (fonts-hanazono), in the shape Skia writes: Type0 → CIDFontType2 with an identity glyph map.

use jiceng_core::pdf_fonts::compact_pdf_fonts;
use lopdf::{Dictionary, Document, Object, Stream};

const FALLBACK_FONT: &str = "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf";

fn name(n: &str) -> Object {
    Object::Name(n.as_bytes().to_vec())
}

/// One page showing glyphs 100 and 2000 of `font`.
fn printed_page(font: &[u8]) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let file = doc.add_object(Stream::new(
        Dictionary::from_iter([("Length1", Object::Integer(font.len() as i64))]),
        font.to_vec(),
    ));
    let descriptor = doc.add_object(Dictionary::from_iter([
        ("Type", name("FontDescriptor")),
        ("FontName", name("EAAAAA+HanaMinA")),
        ("Flags", Object::Integer(4)),
        ("FontFile2", Object::Reference(file)),
    ]));
    let cid_font = doc.add_object(Dictionary::from_iter([
        ("Type", name("Font")),
        ("Subtype", name("CIDFontType2")),
        ("BaseFont", name("EAAAAA+HanaMinA")),
        ("CIDToGIDMap", name("Identity")),
        ("FontDescriptor", Object::Reference(descriptor)),
        (
            "W",
            Object::Array(vec![
                Object::Integer(100),
                Object::Array(vec![Object::Integer(1000)]),
                Object::Integer(2000),
                Object::Array(vec![Object::Integer(1000)]),
            ]),
        ),
    ]));
    let type0 = doc.add_object(Dictionary::from_iter([
        ("Type", name("Font")),
        ("Subtype", name("Type0")),
        ("BaseFont", name("EAAAAA+HanaMinA")),
        ("Encoding", name("Identity-H")),
        (
            "DescendantFonts",
            Object::Array(vec![Object::Reference(cid_font)]),
        ),
    ]));
    let content = doc.add_object(Stream::new(
        Dictionary::new(),
        b"BT /F1 24 Tf 72 700 Td <006407D0> Tj ET".to_vec(),
    ));
    let pages = doc.new_object_id();
    let page = doc.add_object(Dictionary::from_iter([
        ("Type", name("Page")),
        ("Parent", Object::Reference(pages)),
        (
            "MediaBox",
            Object::Array(vec![0.into(), 0.into(), 595.into(), 842.into()]),
        ),
        ("Contents", Object::Reference(content)),
        (
            "Resources",
            Object::Dictionary(Dictionary::from_iter([(
                "Font",
                Object::Dictionary(Dictionary::from_iter([("F1", Object::Reference(type0))])),
            )])),
        ),
    ]));
    doc.objects.insert(
        pages,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", name("Pages")),
            ("Kids", Object::Array(vec![Object::Reference(page)])),
            ("Count", Object::Integer(1)),
        ])),
    );
    let catalog = doc.add_object(Dictionary::from_iter([
        ("Type", name("Catalog")),
        ("Pages", Object::Reference(pages)),
    ]));
    doc.trailer.set("Root", Object::Reference(catalog));
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("the printed page");
    bytes
}

/// `maxp.numGlyphs` of a TrueType program.
fn glyph_count(font: &[u8]) -> u16 {
    let be16 = |at: usize| u16::from_be_bytes([font[at], font[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([font[at], font[at + 1], font[at + 2], font[at + 3]]);
    (0..be16(4) as usize)
        .map(|i| 12 + 16 * i)
        .find(|&record| &font[record..record + 4] == b"maxp")
        .map(|record| be16(be32(record + 8) as usize + 4))
        .expect("a maxp table")
}

#[test]
fn a_whole_embedded_fallback_font_is_cut_to_the_glyphs_on_the_page() {
    let font = std::fs::read(FALLBACK_FONT).unwrap_or_else(|e| {
        panic!("{FALLBACK_FONT} (Debian's fonts-hanazono, scripts/lib.sh installs it): {e}")
    });
    let printed = printed_page(&font);
    let (compacted, stats) = compact_pdf_fonts(&printed).expect("the printed page compacts");
    assert_eq!(stats.fonts_subset, 1);
    assert!(
        compacted.len() * 100 < printed.len(),
        "{} bytes of {}",
        compacted.len(),
        printed.len()
    );

    let doc = Document::load_mem(&compacted).expect("the compacted PDF reads");
    let cid_font = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| {
            d.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"CIDFontType2".as_slice())
        })
        .expect("the CID font");
    let map_id = cid_font
        .get(b"CIDToGIDMap")
        .and_then(|m| m.as_reference())
        .expect("a CID-to-glyph map stream");
    let map = doc
        .get_object(map_id)
        .and_then(|o| o.as_stream())
        .and_then(|s| s.decompressed_content())
        .expect("the map");
    let glyph_of = |cid: usize| u16::from_be_bytes([map[cid * 2], map[cid * 2 + 1]]);
    // .notdef stays glyph 0; the page's two glyphs become 1 and 2; every other CID shows .notdef.
    assert_eq!((glyph_of(0), glyph_of(100), glyph_of(2000)), (0, 1, 2));
    assert_eq!(glyph_of(101), 0);
    assert_eq!(map.len(), 2001 * 2);

    let descriptor_id = cid_font
        .get(b"FontDescriptor")
        .and_then(|d| d.as_reference())
        .expect("descriptor");
    let file_id = doc
        .get_object(descriptor_id)
        .and_then(|d| d.as_dict())
        .and_then(|d| d.get(b"FontFile2"))
        .and_then(|f| f.as_reference())
        .expect("the embedded program");
    let program = doc
        .get_object(file_id)
        .and_then(|o| o.as_stream())
        .and_then(|s| s.decompressed_content())
        .expect("the program");
    assert_eq!(glyph_count(&program), 3);
    assert!(
        glyph_count(&font) > 10_000,
        "the whole font had {}",
        glyph_count(&font)
    );
    // The text the page shows is untouched: its codes are still the CIDs 100 and 2000.
    let page_text = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter_map(|s| s.decompressed_content().ok())
        .any(|c| c.windows(10).any(|w| w == b"<006407D0>"));
    assert!(page_text);
}
