//! Issue 13 §2: an A4 PDF printed by WebKitGTK (its Skia PDF backend) embeds every TrueType font it
//! uses whole — a 生僻字 fallback font such as HanaMinA is 22 MB, once per page range — where a
//! printer needs a few glyphs. This pass subsets each embedded TrueType font to the glyphs the
//! document uses and drops the copies; anything it does not understand it leaves as printed.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use std::collections::{BTreeSet, HashMap};

/// Why a PDF could not be compacted (the caller keeps the printed file).
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error("not a PDF this pass can read: {0}")]
    Read(String),
    #[error("cannot write the compacted PDF: {0}")]
    Write(String),
}

/// What the pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compacted {
    pub fonts_subset: usize,
    pub bytes_before: usize,
    pub bytes_after: usize,
}

/// Subsets the embedded TrueType fonts of `pdf` (CID fonts with an identity glyph map, as Skia and
/// cairo write them) to the glyphs in their width arrays and ToUnicode maps. A font it cannot
/// subset stays whole. Returns the new file, or the input's bytes when nothing shrank.
pub fn compact_pdf_fonts(pdf: &[u8]) -> Result<(Vec<u8>, Compacted), CompactError> {
    let mut doc = Document::load_mem(pdf).map_err(|e| CompactError::Read(e.to_string()))?;
    let used_by_cid_font = glyphs_in_use(&doc);
    let mut cache: HashMap<(ObjectId, Vec<u16>), (ObjectId, Vec<u8>)> = HashMap::new();
    let mut done = 0;
    for (cid_font, glyphs) in used_by_cid_font {
        let Some(file_id) = font_file_of(&doc, cid_font) else {
            continue;
        };
        let key = (file_id, glyphs.iter().copied().collect::<Vec<_>>());
        let (new_file, gid_map) = match cache.get(&key) {
            Some(hit) => hit.clone(),
            None => {
                let Some((bytes, map)) = subset_font(&doc, file_id, &glyphs) else {
                    continue;
                };
                let mut stream = Stream::new(
                    Dictionary::from_iter([("Length1", Object::Integer(bytes.len() as i64))]),
                    bytes,
                );
                let _ = stream.compress();
                let id = doc.add_object(stream);
                cache.insert(key, (id, map.clone()));
                (id, map)
            }
        };
        let map_stream = {
            let mut s = Stream::new(Dictionary::new(), gid_map);
            let _ = s.compress();
            doc.add_object(s)
        };
        if let Ok(Object::Dictionary(font)) = doc.get_object_mut(cid_font) {
            font.set("CIDToGIDMap", Object::Reference(map_stream));
        }
        if let Some(descriptor) = descriptor_of(&doc, cid_font) {
            if let Ok(Object::Dictionary(d)) = doc.get_object_mut(descriptor) {
                d.set("FontFile2", Object::Reference(new_file));
            }
        }
        done += 1;
    }
    let unchanged = || {
        let stats = Compacted {
            fonts_subset: 0,
            bytes_before: pdf.len(),
            bytes_after: pdf.len(),
        };
        Ok((pdf.to_vec(), stats))
    };
    if done == 0 {
        return unchanged();
    }
    doc.prune_objects();
    let mut out = Vec::with_capacity(pdf.len() / 4);
    doc.save_to(&mut out)
        .map_err(|e| CompactError::Write(e.to_string()))?;
    if out.len() >= pdf.len() {
        return unchanged();
    }
    let stats = Compacted {
        fonts_subset: done,
        bytes_before: pdf.len(),
        bytes_after: out.len(),
    };
    Ok((out, stats))
}

/// Each TrueType CID font with an identity CID-to-glyph map, and the glyphs (= CIDs) the
/// document names for it: its widths array, the ToUnicode map of the Type0 fonts above it, and
/// glyph 0.
fn glyphs_in_use(doc: &Document) -> Vec<(ObjectId, BTreeSet<u16>)> {
    let mut used: HashMap<ObjectId, BTreeSet<u16>> = HashMap::new();
    for (&id, object) in &doc.objects {
        let Object::Dictionary(d) = object else {
            continue;
        };
        if name(d, b"Subtype") == Some(b"CIDFontType2".as_slice())
            && name(d, b"CIDToGIDMap") == Some(b"Identity".as_slice())
        {
            let glyphs = used.entry(id).or_default();
            glyphs.insert(0);
            if let Ok(w) = d
                .get(b"W")
                .and_then(|w| resolve(doc, w).as_array().cloned())
            {
                widths_cids(doc, &w, glyphs);
            }
        }
    }
    for object in doc.objects.values() {
        let Object::Dictionary(d) = object else {
            continue;
        };
        if name(d, b"Subtype") != Some(b"Type0".as_slice()) {
            continue;
        }
        let Some(descendant) = d
            .get(b"DescendantFonts")
            .ok()
            .map(|o| resolve(doc, o))
            .and_then(|o| o.as_array().ok())
            .and_then(|a| a.first())
            .and_then(|o| o.as_reference().ok())
        else {
            continue;
        };
        let Some(glyphs) = used.get_mut(&descendant) else {
            continue;
        };
        if let Some(cmap) = d
            .get(b"ToUnicode")
            .ok()
            .and_then(|o| o.as_reference().ok())
            .and_then(|r| doc.get_object(r).ok())
            .and_then(|o| o.as_stream().ok())
            .and_then(|s| s.decompressed_content().ok())
        {
            to_unicode_cids(&cmap, glyphs);
        }
    }
    let mut out: Vec<_> = used.into_iter().collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

fn name<'a>(d: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    d.get(key).ok().and_then(|o| o.as_name().ok())
}

fn resolve<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    match o {
        Object::Reference(r) => doc.get_object(*r).unwrap_or(o),
        _ => o,
    }
}

fn int(doc: &Document, o: &Object) -> Option<i64> {
    resolve(doc, o).as_i64().ok()
}

/// The CIDs of a `/W` array: `c [w1 w2 …]` or `c_first c_last w`.
fn widths_cids(doc: &Document, w: &[Object], out: &mut BTreeSet<u16>) {
    let mut i = 0;
    while i < w.len() {
        let Some(first) = int(doc, &w[i]) else { return };
        match w.get(i + 1).map(|o| resolve(doc, o)) {
            Some(Object::Array(list)) => {
                for k in 0..list.len() as i64 {
                    insert_cid(out, first + k);
                }
                i += 2;
            }
            Some(last) => {
                let Ok(last) = last.as_i64() else { return };
                for cid in first..=last.min(first + 0xFFFF) {
                    insert_cid(out, cid);
                }
                i += 3;
            }
            None => return,
        }
    }
}

fn insert_cid(out: &mut BTreeSet<u16>, cid: i64) {
    if let Ok(cid) = u16::try_from(cid) {
        out.insert(cid);
    }
}

/// The source codes (2-byte CIDs) of a ToUnicode CMap's `bfchar` and `bfrange` sections.
fn to_unicode_cids(cmap: &[u8], out: &mut BTreeSet<u16>) {
    let text = String::from_utf8_lossy(cmap);
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if line.ends_with("beginbfchar") {
            section = "char";
            continue;
        }
        if line.ends_with("beginbfrange") {
            section = "range";
            continue;
        }
        if line.starts_with("endbf") {
            section = "";
            continue;
        }
        let codes: Vec<u16> = line
            .split('<')
            .skip(1)
            .filter_map(|part| part.split('>').next())
            .filter(|hex| hex.len() <= 4)
            .filter_map(|hex| u16::from_str_radix(hex, 16).ok())
            .collect();
        match (section, codes.as_slice()) {
            ("char", [code, ..]) => {
                out.insert(*code);
            }
            ("range", [lo, hi, ..]) if lo <= hi => out.extend(*lo..=*hi),
            _ => {}
        }
    }
}

fn descriptor_of(doc: &Document, cid_font: ObjectId) -> Option<ObjectId> {
    let Ok(Object::Dictionary(d)) = doc.get_object(cid_font) else {
        return None;
    };
    d.get(b"FontDescriptor").ok()?.as_reference().ok()
}

fn font_file_of(doc: &Document, cid_font: ObjectId) -> Option<ObjectId> {
    let Ok(Object::Dictionary(d)) = doc.get_object(descriptor_of(doc, cid_font)?) else {
        return None;
    };
    d.get(b"FontFile2").ok()?.as_reference().ok()
}

/// The font program cut to `glyphs`, and the CID-to-glyph map (2 bytes per CID) into it.
fn subset_font(
    doc: &Document,
    file: ObjectId,
    glyphs: &BTreeSet<u16>,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let program = doc
        .get_object(file)
        .ok()?
        .as_stream()
        .ok()?
        .decompressed_content()
        .ok()?;
    let sorted: Vec<u16> = glyphs.iter().copied().collect();
    let remapper = subsetter::GlyphRemapper::new_from_glyphs_sorted(&sorted);
    let bytes = subsetter::subset(&program, 0, &remapper).ok()?;
    if bytes.len() >= program.len() {
        return None;
    }
    let max = *glyphs.last()? as usize;
    let mut map = vec![0u8; (max + 1) * 2];
    for &g in glyphs {
        let new = remapper.get(g)?;
        map[g as usize * 2..g as usize * 2 + 2].copy_from_slice(&new.to_be_bytes());
    }
    Some((bytes, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_to_unicode_map_names_its_single_codes_and_ranges() {
        let cmap = b"/CIDInit /ProcSet findresource begin\n2 beginbfchar\n<0003> <0020>\n<01A2> <D842DFB7>\nendbfchar\n1 beginbfrange\n<0010> <0012> <0030>\nendbfrange\nend";
        let mut cids = BTreeSet::new();
        to_unicode_cids(cmap, &mut cids);
        assert_eq!(
            cids.into_iter().collect::<Vec<_>>(),
            vec![3, 0x10, 0x11, 0x12, 0x1A2]
        );
    }

    #[test]
    fn a_widths_array_names_lists_and_ranges() {
        let doc = Document::with_version("1.7");
        let w = vec![
            Object::Integer(0),
            Object::Array(vec![
                Object::Real(600.0),
                Object::Integer(0),
                Object::Integer(317),
            ]),
            Object::Integer(19),
            Object::Integer(21),
            Object::Real(636.2),
            Object::Integer(70000), // beyond a 2-byte CID: ignored, not wrapped
            Object::Array(vec![Object::Integer(1)]),
        ];
        let mut cids = BTreeSet::new();
        widths_cids(&doc, &w, &mut cids);
        assert_eq!(
            cids.into_iter().collect::<Vec<_>>(),
            vec![0, 1, 2, 19, 20, 21]
        );
    }

    #[test]
    fn what_is_not_a_pdf_is_refused_and_a_pdf_without_fonts_is_returned_as_it_was() {
        assert!(matches!(
            compact_pdf_fonts(b"<html>"),
            Err(CompactError::Read(_))
        ));
        let mut doc = Document::with_version("1.7");
        let pages = doc.new_object_id();
        let page = doc.add_object(Dictionary::from_iter([
            ("Type", Object::Name(b"Page".to_vec())),
            ("Parent", Object::Reference(pages)),
        ]));
        doc.objects.insert(
            pages,
            Object::Dictionary(Dictionary::from_iter([
                ("Type", Object::Name(b"Pages".to_vec())),
                ("Kids", Object::Array(vec![Object::Reference(page)])),
                ("Count", Object::Integer(1)),
            ])),
        );
        let catalog = doc.add_object(Dictionary::from_iter([
            ("Type", Object::Name(b"Catalog".to_vec())),
            ("Pages", Object::Reference(pages)),
        ]));
        doc.trailer.set("Root", Object::Reference(catalog));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).expect("a one-page PDF");
        let (out, stats) = compact_pdf_fonts(&bytes).expect("readable");
        assert_eq!(out, bytes);
        assert_eq!(stats.fonts_subset, 0);
    }
}
