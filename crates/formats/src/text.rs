//! Byte and text normalisation shared by the readers: BOMs, UTF-16, trimming, entity decoding.

use std::borrow::Cow;

/// Readies a document for parsing: strips a UTF-8 byte order mark, transcodes UTF-16
/// (recognised by its BOM) to UTF-8, and turns CR LF and lone CR into LF as XML requires.
/// Upstream's digests were taken over LF-only text, so the line-end rewrite is not optional.
pub(crate) fn prepare(bytes: &[u8]) -> Cow<'_, [u8]> {
    let utf8 = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        Cow::Owned(utf16_to_utf8(rest, u16::from_le_bytes))
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        Cow::Owned(utf16_to_utf8(rest, u16::from_be_bytes))
    } else {
        Cow::Borrowed(bytes)
    };
    if utf8.contains(&b'\r') {
        return Cow::Owned(unix_line_ends(&utf8));
    }
    utf8
}

fn unix_line_ends(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&byte) = iter.next() {
        if byte == b'\r' {
            iter.next_if_eq(&&b'\n');
            out.push(b'\n');
        } else {
            out.push(byte);
        }
    }
    out
}

fn utf16_to_utf8(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let text: String =
        char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect();
    text.into_bytes()
}

/// Whitespace as JavaScript's `String.prototype.trim` sees it, which upstream relied on.
fn is_js_space(c: char) -> bool {
    c == '\u{feff}' || (c.is_whitespace() && c != '\u{85}')
}

pub(crate) fn trim_js(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// Normalises an XML text node the way upstream's parser did before digests were taken:
/// trim the raw text, decode XML entities, then decode HTML entities a second time.
pub(crate) fn normalize_text(raw: &str) -> String {
    let trimmed = trim_js(raw);
    let xml_decoded = match quick_xml::escape::unescape(trimmed) {
        Ok(decoded) => decoded,
        // An entity XML does not define (e.g. `&nbsp;`): let the HTML decoder take the whole node.
        Err(_) => htmlize::unescape(trimmed),
    };
    htmlize::unescape(xml_decoded).into_owned()
}

/// Normalises a CDATA section: no XML entities to decode, but trimmed and HTML-decoded.
pub(crate) fn normalize_cdata(raw: &str) -> String {
    htmlize::unescape(trim_js(raw)).into_owned()
}

/// Cuts `s` to at most `max` characters.
pub(crate) fn truncate_chars(mut s: String, max: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
    }
    s
}

/// `None` for an empty string, so optional fields never hold `""`.
pub(crate) fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// The token after the first `Release:` (whitespace optional), e.g. `8` in
/// `Release: 8 Benchmark Date: 26 Jan 2023`.
pub(crate) fn release_token(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("Release:")?;
    let rest = rest.trim_start();
    let token = &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())];
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn decodes_twice_after_trimming() {
        assert_eq!(normalize_text("  a &amp;lt;b&amp;gt; &lt;c&gt;\n"), "a <b> <c>");
        assert_eq!(normalize_text("x&nbsp;y"), "x\u{a0}y");
        assert_eq!(normalize_text(" &#10;x "), "\nx");
    }

    #[test]
    fn trims_like_javascript() {
        assert_eq!(trim_js("\u{feff} a \u{a0}"), "a");
        assert_eq!(trim_js("\u{85}a"), "\u{85}a");
    }

    #[test]
    fn strips_bom_and_transcodes_utf16() {
        assert_eq!(&*prepare(b"\xEF\xBB\xBF<a/>"), b"<a/>");
        assert_eq!(&*prepare(b"\xFF\xFE<\0a\0/\0>\0"), b"<a/>");
        assert_eq!(&*prepare(b"\xFE\xFF\0<\0a\0/\0>"), b"<a/>");
        assert_eq!(&*prepare(b"a\r\nb\rc\r\r\n"), b"a\nb\nc\n\n");
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate_chars("héllo".to_string(), 2), "hé");
        assert_eq!(truncate_chars("abc".to_string(), 5), "abc");
    }
}
