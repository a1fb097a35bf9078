//! Compact binary encodings for what is stored in bulk: a row's field history and batches of
//! operations in the server's audit log. JSON for these cost most of the merge's time and disk (see
//! BENCHMARKS.md); these encodings are deterministic, so equal content gives equal bytes on every replica.
//!
//! Layout primitives: unsigned LEB128 varints, length-prefixed UTF-8 strings, and a per-record string
//! dictionary (sorted, so the bytes do not depend on insertion order) referenced by index.

use crate::hlc::Hlc;
use crate::merge::{FieldVersion, RowVersions};
use crate::op::{Operation, Version};
use crate::wire::{PullResponse, PushRequest};

#[derive(Debug, thiserror::Error)]
#[error("corrupt encoded record: {0}")]
pub struct DecodeError(&'static str);

const ROW_FORMAT: u8 = 1;
/// The master's row format: only the winning version of each field (hlc, site, value). The rest of
/// the field history lives in the server's audit log (`sync-server` keeps where, and rebuilds a
/// field's history from it when a merge or a reader needs it).
const WINNERS_FORMAT: u8 = 2;
/// Format 2 with each site of the dictionary as 16 bytes when it is a canonical UUID (a site id
/// the master issued), else as text: 20 bytes less per row.
const WINNERS_FORMAT_UUID_SITES: u8 = 4;
/// Format 3: back-references per string slot, clocks as deltas, canonical UUID row ids as 16 bytes
/// (formats 1 and 2 were never deployed).
const OPS_FORMAT: u8 = 3;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, at: 0 }
    }
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.at).ok_or(DecodeError("truncated"))?;
        self.at += 1;
        Ok(b)
    }
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError("varint too long"))
    }
    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()? as usize;
        let end = self
            .at
            .checked_add(len)
            .ok_or(DecodeError("length overflow"))?;
        let slice = self
            .data
            .get(self.at..end)
            .ok_or(DecodeError("truncated"))?;
        self.at = end;
        Ok(slice)
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        std::str::from_utf8(self.bytes()?)
            .map(str::to_string)
            .map_err(|_| DecodeError("invalid UTF-8"))
    }
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let slice = self
            .data
            .get(self.at..self.at + N)
            .ok_or(DecodeError("truncated"))?;
        self.at += N;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
    fn done(&self) -> bool {
        self.at == self.data.len()
    }
}

/// A sorted string dictionary: strings are written once, referenced by index.
struct Dictionary<'a> {
    /// Distinct strings, sorted (so the bytes do not depend on insertion order).
    sorted: Vec<&'a str>,
}

impl<'a> Dictionary<'a> {
    fn build(strings: impl Iterator<Item = &'a str>) -> Self {
        // A row names a handful of distinct sites and users many times: a sorted, deduplicated
        // vector is several times cheaper to build and search than a map.
        let mut sorted: Vec<&'a str> = strings.collect();
        sorted.sort_unstable();
        sorted.dedup();
        Dictionary { sorted }
    }
    fn write(&self, out: &mut Vec<u8>) {
        put_varint(out, self.sorted.len() as u64);
        for s in &self.sorted {
            put_bytes(out, s.as_bytes());
        }
    }
    fn id(&self, s: &str) -> u64 {
        self.sorted.binary_search(&s).map(|i| i as u64).unwrap_or(0)
    }
}

fn read_dictionary(r: &mut Reader<'_>) -> Result<Vec<String>, DecodeError> {
    let n = r.varint()? as usize;
    if n > r.data.len() {
        return Err(DecodeError("dictionary too large"));
    }
    (0..n).map(|_| r.string()).collect()
}

fn lookup(dict: &[String], i: u64) -> Result<String, DecodeError> {
    dict.get(i as usize)
        .cloned()
        .ok_or(DecodeError("dictionary index out of range"))
}

fn put_value(out: &mut Vec<u8>, value: &serde_json::Value) {
    // Strings, the common case, are stored raw behind a tag; anything else as JSON text.
    match value {
        serde_json::Value::String(s) => {
            out.push(0);
            put_bytes(out, s.as_bytes());
        }
        other => {
            out.push(1);
            put_bytes(out, other.to_string().as_bytes());
        }
    }
}

fn read_value(r: &mut Reader<'_>) -> Result<serde_json::Value, DecodeError> {
    match r.byte()? {
        0 => Ok(serde_json::Value::String(r.string()?)),
        1 => serde_json::from_slice(r.bytes()?).map_err(|_| DecodeError("invalid JSON value")),
        _ => Err(DecodeError("unknown value tag")),
    }
}

/// Encodes a row's field history.
pub fn encode_row(row: &RowVersions) -> Vec<u8> {
    let names = row.fields.values().flatten().flat_map(|v| {
        std::iter::once(v.1.as_str())
            .chain(std::iter::once(v.2.as_str()))
            .chain(v.3.as_ref().map(|(_, s)| s.as_str()))
    });
    let dict = Dictionary::build(names);
    let mut out = Vec::with_capacity(64 + row.fields.len() * 48);
    out.push(ROW_FORMAT);
    dict.write(&mut out);
    put_varint(&mut out, row.fields.len() as u64);
    for (field, versions) in &row.fields {
        put_bytes(&mut out, field.as_bytes());
        put_varint(&mut out, versions.len() as u64);
        for v in versions {
            put_varint(&mut out, v.0 .0);
            put_varint(&mut out, dict.id(&v.1));
            put_varint(&mut out, dict.id(&v.2));
            match &v.3 {
                None => out.push(0),
                Some((hlc, site)) => {
                    out.push(1);
                    put_varint(&mut out, hlc.0);
                    put_varint(&mut out, dict.id(site));
                }
            }
            put_value(&mut out, &v.4);
        }
    }
    out
}

/// One field's winning version, as the master stores it: the field's position in its table's
/// definition, its clock and its site. The value is the row's column; user, base and older versions
/// are in the audit log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Winner<'a> {
    pub field: usize,
    pub hlc: Hlc,
    pub site: &'a str,
}

/// Encodes a master row's winners (format 2): a dictionary of sites in first-seen order, then per
/// field its position, its clock as a zigzag delta from the previous field's (a row's fields are
/// usually written together, so deltas are small) and its site. Deterministic for a given order.
pub fn encode_winners(winners: &[Winner<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + winners.len() * 5);
    encode_winners_into(&mut out, winners.iter().copied());
    out
}

/// [`encode_winners`] appended to `out`, from any re-iterable sequence of winners.
pub fn encode_winners_into<'w, I>(out: &mut Vec<u8>, winners: I)
where
    I: Iterator<Item = Winner<'w>> + Clone,
{
    out.push(WINNERS_FORMAT_UUID_SITES);
    // A row's fields nearly always come from one or two sites: no allocation for up to four.
    let mut few: [&str; 4] = [""; 4];
    let mut few_len = 0;
    let mut more: Vec<&str> = Vec::new();
    let position = |few: &[&str], more: &[&str], site: &str| {
        few.iter()
            .chain(more.iter())
            .position(|s| std::ptr::eq(*s, site) || *s == site)
    };
    for w in winners.clone() {
        if position(&few[..few_len], &more, w.site).is_none() {
            if few_len < few.len() {
                few[few_len] = w.site;
                few_len += 1;
            } else {
                more.push(w.site);
            }
        }
    }
    put_varint(out, (few_len + more.len()) as u64);
    for s in few[..few_len].iter().chain(more.iter()) {
        match uuid_bytes(s) {
            Some(raw) => {
                out.push(1);
                out.extend_from_slice(&raw);
            }
            None => {
                out.push(0);
                put_bytes(out, s.as_bytes());
            }
        }
    }
    put_varint(out, winners.clone().count() as u64);
    let mut previous = 0u64;
    for w in winners {
        put_varint(out, w.field as u64);
        let delta = w.hlc.0.wrapping_sub(previous) as i64;
        put_varint(out, ((delta << 1) ^ (delta >> 63)) as u64);
        previous = w.hlc.0;
        put_varint(
            out,
            position(&few[..few_len], &more, w.site).unwrap_or(0) as u64,
        );
    }
}

/// Whether stored row bytes are a master's winners (format 2) rather than a full history.
pub fn is_winners(data: &[u8]) -> bool {
    matches!(
        data.first(),
        Some(&WINNERS_FORMAT) | Some(&WINNERS_FORMAT_UUID_SITES)
    )
}

/// Decodes a master row's winners: (field position, clock, site).
pub fn decode_winners(data: &[u8]) -> Result<Vec<(usize, Hlc, String)>, DecodeError> {
    let mut r = Reader::new(data);
    let dict = match r.byte()? {
        WINNERS_FORMAT => read_dictionary(&mut r)?,
        WINNERS_FORMAT_UUID_SITES => {
            let n = r.varint()? as usize;
            if n > r.data.len() {
                return Err(DecodeError("dictionary too large"));
            }
            (0..n)
                .map(|_| match r.byte()? {
                    0 => r.string(),
                    1 => Ok(uuid_text(&r.fixed::<16>()?)),
                    _ => Err(DecodeError("unknown site tag")),
                })
                .collect::<Result<Vec<String>, DecodeError>>()?
        }
        _ => return Err(DecodeError("not a master row")),
    };
    let n = r.varint()? as usize;
    if n > r.data.len() {
        return Err(DecodeError("too many fields"));
    }
    let mut out = Vec::with_capacity(n);
    let mut previous = 0u64;
    for _ in 0..n {
        let field = usize::try_from(r.varint()?).map_err(|_| DecodeError("field position"))?;
        let zigzag = r.varint()?;
        let delta = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        previous = previous.wrapping_add(delta as u64);
        out.push((field, Hlc(previous), lookup(&dict, r.varint()?)?));
    }
    if !r.done() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(out)
}

/// Decodes a row's full field history (format 1; a master's winners, format 2, need the table's
/// definition and columns: `store::merge_sql::load_versions` reads them).
pub fn decode_row(data: &[u8]) -> Result<RowVersions, DecodeError> {
    let mut r = Reader::new(data);
    if r.byte()? != ROW_FORMAT {
        return Err(DecodeError("unknown row format"));
    }
    let dict = read_dictionary(&mut r)?;
    let mut row = RowVersions::default();
    let fields = r.varint()?;
    for _ in 0..fields {
        let field = r.string()?;
        let n = r.varint()? as usize;
        if n > data.len() {
            return Err(DecodeError("too many versions"));
        }
        let mut versions = Vec::with_capacity(n);
        for _ in 0..n {
            let hlc = Hlc(r.varint()?);
            let site = lookup(&dict, r.varint()?)?;
            let user = lookup(&dict, r.varint()?)?;
            let base = match r.byte()? {
                0 => None,
                1 => Some((Hlc(r.varint()?), lookup(&dict, r.varint()?)?)),
                _ => return Err(DecodeError("bad base tag")),
            };
            versions.push(FieldVersion(hlc, site, user, base, read_value(&mut r)?));
        }
        row.fields.insert(field, versions);
    }
    if !r.done() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(row)
}

/// Encodes an ascending list of sequence numbers (where a master row's operations are in the log) as
/// varint deltas.
pub fn encode_seqs(seqs: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(seqs.len() * 3);
    encode_seqs_into(&mut out, seqs);
    out
}

/// [`encode_seqs`] appended to `out`.
pub fn encode_seqs_into(out: &mut Vec<u8>, seqs: &[u64]) {
    let mut previous = 0u64;
    for s in seqs {
        put_varint(out, s.wrapping_sub(previous));
        previous = *s;
    }
}

pub fn decode_seqs(data: &[u8]) -> Result<Vec<u64>, DecodeError> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    let mut previous = 0u64;
    while !r.done() {
        previous = previous.wrapping_add(r.varint()?);
        out.push(previous);
    }
    Ok(out)
}

/// Lower-case hex digit values (0xff: not a lower-case hex digit).
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Decodes lower-case hex (what `hex::encode` writes, so the text comes back byte for byte).
fn lower_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (hi, lo) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(out)
}

fn hash_bytes(text: &str) -> Option<[u8; 32]> {
    lower_hex::<32>(text.as_bytes())
}

/// A canonical lower-case hyphenated UUID as its 16 bytes (None for any other text).
fn uuid_bytes(text: &str) -> Option<[u8; 16]> {
    let b = text.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut digits = [0u8; 32];
    digits[..8].copy_from_slice(&b[..8]);
    digits[8..12].copy_from_slice(&b[9..13]);
    digits[12..16].copy_from_slice(&b[14..18]);
    digits[16..20].copy_from_slice(&b[19..23]);
    digits[20..].copy_from_slice(&b[24..]);
    lower_hex::<16>(&digits)
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `raw`, with a '-' before the bytes at the positions in `dashes`.
fn hex_text(raw: &[u8], dashes: &[usize]) -> String {
    let mut out = Vec::with_capacity(raw.len() * 2 + dashes.len());
    for (i, b) in raw.iter().enumerate() {
        if dashes.contains(&i) {
            out.push(b'-');
        }
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 0x0f) as usize]);
    }
    // Only ASCII digits and dashes were written.
    String::from_utf8(out).unwrap_or_default()
}

fn uuid_text(raw: &[u8; 16]) -> String {
    hex_text(raw, &[4, 6, 8, 10])
}

fn zigzag(delta: i64) -> u64 {
    ((delta << 1) ^ (delta >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Strings an operation repeats from earlier operations of the same record (site, table, field, user,
/// scope): each slot keeps the distinct values in first-seen order and refers back by position, so a
/// record of a site's batch spells each name once without building a dictionary first. Encoder and
/// decoder keep the same lists, so the bytes are a function of the operations and their order.
struct Recent<'a> {
    seen: Vec<&'a str>,
}

/// Slot lists stop growing here; later new strings are written in full each time.
const RECENT_MAX: usize = 64;

impl<'a> Recent<'a> {
    fn new() -> Self {
        Recent { seen: Vec::new() }
    }
    fn put(&mut self, out: &mut Vec<u8>, s: &'a str) {
        // Most recent first: consecutive operations usually repeat the last value.
        match self.seen.iter().rposition(|x| *x == s) {
            Some(i) => put_varint(out, i as u64 + 1),
            None => {
                out.push(0);
                put_bytes(out, s.as_bytes());
                if self.seen.len() < RECENT_MAX {
                    self.seen.push(s);
                }
            }
        }
    }
}

struct RecentOwned {
    seen: Vec<String>,
}

impl RecentOwned {
    fn get(&mut self, r: &mut Reader<'_>) -> Result<String, DecodeError> {
        match r.varint()? {
            0 => {
                let s = r.string()?;
                if self.seen.len() < RECENT_MAX {
                    self.seen.push(s.clone());
                }
                Ok(s)
            }
            i => self
                .seen
                .get(i as usize - 1)
                .cloned()
                .ok_or(DecodeError("back-reference out of range")),
        }
    }
}

/// Encodes operations (with their server_seq, if any). Hashes are stored as 32 raw bytes; a prev_hash
/// equal to the previous operation's hash (the usual chain) costs one byte, and so does a row id equal
/// to the previous operation's (a row's fields are written together).
pub fn encode_ops(ops: &[&Operation]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + ops.len() * 64);
    out.push(OPS_FORMAT);
    put_varint(&mut out, ops.len() as u64);
    let mut previous: Option<&Operation> = None;
    let (mut last_seq, mut last_hlc) = (0u64, 0u64);
    let [mut sites, mut tables, mut fields, mut users, mut scopes] = [(); 5].map(|_| Recent::new());
    for op in ops.iter().copied() {
        sites.put(&mut out, &op.site_id);
        put_varint(&mut out, zigzag(op.site_seq.wrapping_sub(last_seq) as i64));
        last_seq = op.site_seq;
        put_varint(&mut out, op.server_seq.map(|s| s + 1).unwrap_or(0));
        if previous.is_some_and(|p| p.hash == op.prev_hash) {
            out.push(0);
        } else if let Some(raw) = hash_bytes(&op.prev_hash) {
            out.push(1);
            out.extend_from_slice(&raw);
        } else {
            out.push(2);
            put_bytes(&mut out, op.prev_hash.as_bytes());
        }
        match hash_bytes(&op.hash) {
            Some(raw) => {
                out.push(1);
                out.extend_from_slice(&raw);
            }
            None => {
                out.push(2);
                put_bytes(&mut out, op.hash.as_bytes());
            }
        }
        tables.put(&mut out, &op.table);
        if previous.is_some_and(|p| p.row_id == op.row_id) {
            out.push(0);
        } else if let Some(raw) = uuid_bytes(&op.row_id) {
            out.push(2);
            out.extend_from_slice(&raw);
        } else {
            out.push(1);
            put_bytes(&mut out, op.row_id.as_bytes());
        }
        fields.put(&mut out, &op.field);
        put_value(&mut out, &op.value);
        put_varint(&mut out, zigzag(op.hlc.0.wrapping_sub(last_hlc) as i64));
        last_hlc = op.hlc.0;
        match &op.base {
            None => out.push(0),
            Some(b) => {
                // A base is older than its operation: the distance back is small.
                out.push(1);
                put_varint(&mut out, zigzag(op.hlc.0.wrapping_sub(b.hlc.0) as i64));
                sites.put(&mut out, &b.site);
            }
        }
        users.put(&mut out, &op.user_id);
        put_varint(&mut out, u64::from(op.schema_version));
        scopes.put(&mut out, &op.scope);
        previous = Some(op);
    }
    out
}

fn decode_ops_body(mut r: Reader<'_>) -> Result<Vec<Operation>, DecodeError> {
    let n = r.varint()? as usize;
    if n > r.data.len() {
        return Err(DecodeError("too many operations"));
    }
    // Reserved up to a push's worth: a count that a site's body claims is not trusted with memory.
    let mut ops: Vec<Operation> = Vec::with_capacity(n.min(MAX_RESERVED_OPS));
    let [mut sites, mut tables, mut fields, mut users, mut scopes] =
        [(); 5].map(|_| RecentOwned { seen: Vec::new() });
    let (mut last_seq, mut last_hlc) = (0u64, 0u64);
    for _ in 0..n {
        let site_id = sites.get(&mut r)?;
        let site_seq = last_seq.wrapping_add(unzigzag(r.varint()?) as u64);
        last_seq = site_seq;
        let server_seq = r.varint()?.checked_sub(1);
        let prev_hash = match r.byte()? {
            0 => ops
                .last()
                .map(|o| o.hash.clone())
                .ok_or(DecodeError("chained hash without a previous operation"))?,
            1 => hex_text(&r.fixed::<32>()?, &[]),
            2 => r.string()?,
            _ => return Err(DecodeError("bad hash tag")),
        };
        let hash = match r.byte()? {
            1 => hex_text(&r.fixed::<32>()?, &[]),
            2 => r.string()?,
            _ => return Err(DecodeError("bad hash tag")),
        };
        let table = tables.get(&mut r)?;
        let row_id = match r.byte()? {
            0 => ops
                .last()
                .map(|o| o.row_id.clone())
                .ok_or(DecodeError("repeated row id without a previous operation"))?,
            1 => r.string()?,
            2 => uuid_text(&r.fixed::<16>()?),
            _ => return Err(DecodeError("bad row id tag")),
        };
        let field = fields.get(&mut r)?;
        let value = read_value(&mut r)?;
        let hlc = Hlc(last_hlc.wrapping_add(unzigzag(r.varint()?) as u64));
        last_hlc = hlc.0;
        let base = match r.byte()? {
            0 => None,
            1 => Some(Version {
                hlc: Hlc(hlc.0.wrapping_sub(unzigzag(r.varint()?) as u64)),
                site: sites.get(&mut r)?,
            }),
            _ => return Err(DecodeError("bad base tag")),
        };
        let user_id = users.get(&mut r)?;
        let schema_version =
            u32::try_from(r.varint()?).map_err(|_| DecodeError("schema version"))?;
        let scope = scopes.get(&mut r)?;
        ops.push(Operation {
            site_id,
            site_seq,
            prev_hash,
            hash,
            table,
            row_id,
            field,
            value,
            hlc,
            base,
            user_id,
            schema_version,
            scope,
            server_seq,
        });
    }
    if !r.done() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(ops)
}

pub fn decode_ops(data: &[u8]) -> Result<Vec<Operation>, DecodeError> {
    let mut r = Reader::new(data);
    if r.byte()? != OPS_FORMAT {
        return Err(DecodeError("unknown operations format"));
    }
    decode_ops_body(r)
}

/// Operations a decoder reserves room for before it has read them.
const MAX_RESERVED_OPS: usize = 1_000;

/// A push's body in binary (`wire::PUSH_BINARY_TYPE`): the JSON body's fields, its operations in
/// [`encode_ops`]'s format. A server decodes it in a fraction of the JSON's time (the JSON was a
/// quarter of the server's CPU under 200 offices' load), and it is a sixth of the JSON's bytes.
const PUSH_FORMAT: u8 = 5;

pub fn encode_push(push: &PushRequest) -> Vec<u8> {
    let ops: Vec<&Operation> = push.ops.iter().collect();
    let encoded = encode_ops(&ops);
    let mut out = Vec::with_capacity(encoded.len() + 48 + push.divergent.len() * 3);
    out.push(PUSH_FORMAT);
    put_bytes(&mut out, push.db_instance_id.as_bytes());
    put_varint(&mut out, push.divergent.len() as u64);
    let mut previous = 0u64;
    for seq in &push.divergent {
        put_varint(&mut out, seq.wrapping_sub(previous));
        previous = *seq;
    }
    out.extend_from_slice(&encoded);
    out
}

/// Decodes [`encode_push`]'s bytes; whatever a site sends is an error, never a panic.
pub fn decode_push(data: &[u8]) -> Result<PushRequest, DecodeError> {
    let mut r = Reader::new(data);
    if r.byte()? != PUSH_FORMAT {
        return Err(DecodeError("not a binary push"));
    }
    let db_instance_id = r.string()?;
    let count = r.varint()? as usize;
    if count > data.len() {
        return Err(DecodeError("too many divergent operations"));
    }
    let mut divergent = Vec::with_capacity(count.min(MAX_RESERVED_OPS));
    let mut previous = 0u64;
    for _ in 0..count {
        previous = previous.wrapping_add(r.varint()?);
        divergent.push(previous);
    }
    let ops = decode_ops(&data[r.at..])?;
    Ok(PushRequest {
        db_instance_id,
        ops,
        divergent,
    })
}

/// A pull's answer in binary (`wire::PULL_BINARY_TYPE`, asked for in `Accept`): the JSON answer
/// without its operations, then the operations in [`encode_ops`]'s format. A laptop back from weeks
/// offline spent more time reading the JSON of what it pulled than merging it (issue 12 §5).
const PULL_FORMAT: u8 = 6;

pub fn encode_pull(pull: &PullResponse) -> Vec<u8> {
    let head = PullResponse {
        ops: Vec::new(),
        master_id: pull.master_id.clone(),
        left_scope: pull.left_scope.clone(),
        reinitialise: pull.reinitialise.clone(),
        ..*pull
    };
    // A struct of strings, numbers and lists: serialising it cannot fail.
    let head = serde_json::to_vec(&head).unwrap_or_default();
    let ops: Vec<&Operation> = pull.ops.iter().collect();
    let encoded = encode_ops(&ops);
    let mut out = Vec::with_capacity(1 + 5 + head.len() + encoded.len());
    out.push(PULL_FORMAT);
    put_bytes(&mut out, &head);
    out.extend_from_slice(&encoded);
    out
}

/// Decodes [`encode_pull`]'s bytes; whatever arrives is an error, never a panic.
pub fn decode_pull(data: &[u8]) -> Result<PullResponse, DecodeError> {
    let mut r = Reader::new(data);
    if r.byte()? != PULL_FORMAT {
        return Err(DecodeError("not a binary pull"));
    }
    let head = r.string()?;
    let mut pull: PullResponse =
        serde_json::from_str(&head).map_err(|_| DecodeError("a pull's head is not its JSON"))?;
    pull.ops = decode_ops(&data[r.at..])?;
    Ok(pull)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tables::MergeKind;
    use serde_json::json;

    /// A hash-chained operation of one site for tests (a 4-byte character in the site id); the
    /// store's log tests use it too.
    pub(crate) fn op(
        seq: u64,
        prev: &str,
        value: serde_json::Value,
        base: Option<Version>,
    ) -> Operation {
        let mut op = Operation {
            site_id: "site-𠀀".into(),
            site_seq: seq,
            prev_hash: prev.into(),
            hash: String::new(),
            table: "corr_case".into(),
            row_id: "0190-row".into(),
            field: "name".into(),
            value,
            hlc: Hlc::from_parts(1_790_000_000_000, seq as u16),
            base,
            user_id: "u1".into(),
            schema_version: 1,
            scope: "office".into(),
            server_seq: None,
        };
        op.hash = op.compute_hash();
        op
    }

    #[test]
    fn operations_round_trip_including_chains_and_odd_values() {
        let a = op(1, "", json!("张𪚥"), None);
        let b = op(2, &a.hash, json!(null), Some(a.version()));
        let mut c = op(3, "not-hex", json!(true), None);
        c.server_seq = Some(0);
        let mut d = op(4, &c.hash, json!(42), None);
        d.server_seq = Some(77);
        // Row ids: a canonical UUID (stored as 16 bytes), an upper-case one and other text (as is);
        // an upper-case hash is kept as text; a base newer than its operation; clocks going back.
        let mut e = op(9, &d.hash, json!("x"), None);
        e.row_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into();
        e.base = Some(Version {
            hlc: Hlc(u64::MAX - 3),
            site: "other".into(),
        });
        let mut f = op(5, &e.hash, json!("y"), None);
        f.row_id = "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B".into();
        f.hash = f.hash.to_uppercase();
        f.hlc = Hlc(3);
        let mut g = op(6, &f.hash, json!("z"), None);
        g.row_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5".into();
        let ops = vec![a, b, c, d, e, f, g];
        let refs: Vec<&Operation> = ops.iter().collect();
        let back = decode_ops(&encode_ops(&refs)).unwrap();
        assert_eq!(back, ops);
        assert!(back[..4].iter().all(Operation::hash_is_valid));
    }

    #[test]
    fn rows_round_trip_and_encode_deterministically() {
        let a = op(1, "", json!("甲"), None);
        let b = op(2, &a.hash, json!("乙"), Some(a.version()));
        let mut one = RowVersions::default();
        one.apply(&a, MergeKind::Mutable);
        one.apply(&b, MergeKind::Mutable);
        let mut two = RowVersions::default();
        two.apply(&b, MergeKind::Mutable);
        two.apply(&a, MergeKind::Mutable);
        assert_eq!(encode_row(&one), encode_row(&two));
        assert_eq!(decode_row(&encode_row(&one)).unwrap(), one);
    }

    #[test]
    fn winners_and_sequences_round_trip() {
        let winners = [
            Winner {
                field: 3,
                hlc: Hlc(1_000_005),
                site: "s1",
            },
            Winner {
                field: 0,
                hlc: Hlc(1_000_002),
                site: "s2𠀀",
            },
            Winner {
                field: 70,
                hlc: Hlc(9),
                site: "s1",
            },
        ];
        let bytes = encode_winners(&winners);
        assert!(is_winners(&bytes));
        let back = decode_winners(&bytes).unwrap();
        let expected: Vec<(usize, Hlc, String)> = winners
            .iter()
            .map(|w| (w.field, w.hlc, w.site.to_string()))
            .collect();
        assert_eq!(back, expected);
        for cut in 0..bytes.len() {
            assert!(decode_winners(&bytes[..cut]).is_err());
        }
        let seqs = [1, 2, 500, 10_000_000_000];
        assert_eq!(decode_seqs(&encode_seqs(&seqs)).unwrap(), seqs);
    }

    #[test]
    fn winners_store_uuid_sites_in_16_bytes_and_still_read_format_2() {
        let uuid = "01932c8e-7a4b-7cde-8f01-23456789abcd";
        let upper = "01932C8E-7A4B-7CDE-8F01-23456789ABCD";
        let winners = [
            Winner {
                field: 0,
                hlc: Hlc(7),
                site: uuid,
            },
            Winner {
                field: 1,
                hlc: Hlc(8),
                site: "server-01932c8e-7a4b-7cde-8f01-23456789abcd",
            },
            Winner {
                field: 2,
                hlc: Hlc(9),
                site: upper,
            },
        ];
        let bytes = encode_winners(&winners);
        // Only the canonical lower-case UUID is shortened: the others must come back exactly.
        let back = decode_winners(&bytes).unwrap();
        assert_eq!(back[0].2, uuid);
        assert_eq!(back[1].2, winners[1].site);
        assert_eq!(back[2].2, upper);
        let one = encode_winners(&winners[..1]);
        assert!(
            one.len() < 1 + 1 + 1 + 16 + 1 + 3 + 1,
            "{} bytes for one field of a UUID site",
            one.len()
        );
        // A format 2 row (sites as text) written before this format existed.
        let mut old = vec![WINNERS_FORMAT, 1];
        put_bytes(&mut old, uuid.as_bytes());
        put_varint(&mut old, 1);
        put_varint(&mut old, 4);
        put_varint(&mut old, zigzag(42));
        put_varint(&mut old, 0);
        assert!(is_winners(&old));
        assert_eq!(
            decode_winners(&old).unwrap(),
            vec![(4, Hlc(42), uuid.to_string())]
        );
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_panic() {
        let one = op(1, "", json!("x"), None);
        let ops = encode_ops(&[&one]);
        for cut in 0..ops.len() {
            assert!(decode_ops(&ops[..cut]).is_err());
        }
        assert!(decode_row(&[1, 200, 200, 200]).is_err());
        assert!(decode_row(&[9]).is_err());
    }

    fn push_of(ops: Vec<Operation>, divergent: Vec<u64>) -> PushRequest {
        PushRequest {
            db_instance_id: "实例-𠀀-1".into(),
            ops,
            divergent,
        }
    }

    #[test]
    fn a_binary_push_decodes_to_the_push_sent() {
        let a = op(1, "", json!("张𪚥"), None);
        let b = op(2, &a.hash, json!(null), Some(a.version()));
        let mut c = op(3, &b.hash, json!({"k": "v\n\"x\""}), None);
        c.row_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into();
        c.hash = c.compute_hash();
        let d = op(4, &c.hash, json!(-7), None);
        for push in [
            push_of(vec![a.clone(), b, c, d], vec![4, 2, u64::MAX]),
            push_of(Vec::new(), Vec::new()),
            push_of(vec![a], Vec::new()),
        ] {
            let bytes = encode_push(&push);
            let back = decode_push(&bytes).unwrap();
            assert_eq!(back.db_instance_id, push.db_instance_id);
            assert_eq!(back.ops, push.ops);
            assert_eq!(back.divergent, push.divergent);
            assert!(back.ops.iter().all(Operation::hash_is_valid));
        }
    }

    #[test]
    fn a_cut_or_altered_binary_push_is_an_error_never_a_panic() {
        let a = op(1, "", json!("张𪚥"), None);
        let b = op(2, &a.hash, json!(12), Some(a.version()));
        let bytes = encode_push(&push_of(vec![a, b], vec![1]));
        for end in 0..bytes.len() {
            assert!(decode_push(&bytes[..end]).is_err(), "cut at {end}");
        }
        // Every byte altered in turn: decodes to something or fails, without panicking.
        for at in 0..bytes.len() {
            for delta in [1u8, 0x7f, 0x80, 0xff] {
                let mut altered = bytes.clone();
                altered[at] = altered[at].wrapping_add(delta);
                let _ = decode_push(&altered);
            }
        }
        // A count far beyond the body is refused before anything is reserved for it.
        let mut claims = vec![PUSH_FORMAT, 0, 0, OPS_FORMAT];
        put_varint(&mut claims, u64::MAX);
        assert!(decode_push(&claims).is_err());
        assert!(
            decode_push(&[OPS_FORMAT, 0]).is_err(),
            "an ops record is not a push"
        );
    }

    fn pull_of(ops: Vec<Operation>) -> PullResponse {
        PullResponse {
            ops,
            next_cursor: 9_000_000_001,
            has_more: true,
            server_time_ms: 1_790_000_000_123,
            master_id: "master-𠀀".into(),
            site_last_seq: Some(4),
            left_scope: vec![crate::wire::RowRef {
                table: "corr_case".into(),
                id: "移走-𪚥".into(),
            }],
            reinitialise: None,
        }
    }

    #[test]
    fn a_binary_pull_decodes_to_the_answer_sent() {
        let a = op(1, "", json!("张𪚥"), None);
        let mut b = op(2, &a.hash, json!({"k": [1, "二"]}), Some(a.version()));
        b.server_seq = Some(41);
        let mut other = op(7, "", json!(3.5), None);
        other.site_id = "another-site".into();
        other.server_seq = Some(40);
        other.hash = other.compute_hash();
        let mut reinitialise = pull_of(Vec::new());
        reinitialise.reinitialise = Some("scope changed".into());
        reinitialise.site_last_seq = None;
        for pull in [pull_of(vec![other, a, b]), reinitialise] {
            let bytes = encode_pull(&pull);
            let back = decode_pull(&bytes).unwrap();
            assert_eq!(
                serde_json::to_value(&back).unwrap(),
                serde_json::to_value(&pull).unwrap()
            );
            for end in 0..bytes.len() {
                assert!(decode_pull(&bytes[..end]).is_err(), "cut at {end}");
            }
        }
        assert!(decode_pull(&encode_push(&push_of(Vec::new(), Vec::new()))).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_fail_without_panicking(bytes in proptest::collection::vec(0u8..=255, 0..400)) {
            let _ = decode_push(&bytes);
            let mut pushed = vec![PUSH_FORMAT];
            pushed.extend_from_slice(&bytes);
            let _ = decode_push(&pushed);
            let mut pulled = vec![PULL_FORMAT];
            pulled.extend_from_slice(&bytes);
            let _ = decode_pull(&pulled);
        }
    }
}
