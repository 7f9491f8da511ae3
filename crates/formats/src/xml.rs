//! A small pull reader over quick-xml that the format readers share: namespace prefixes
//! dropped, empty elements expanded, text normalised, and truncation reported as an error.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::text::{normalize_cdata, normalize_text};
use crate::FormatError;

/// An opening tag: its local name and its attributes (local names, XML-decoded values).
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub(crate) name: String,
    attrs: Vec<(String, String)>,
}

impl Element {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Reads one document element by element. Callers walk the tree with [`Cursor::child`],
/// [`Cursor::text`] and [`Cursor::skip`]; the cursor tracks depth so a document that ends
/// inside an element is an error rather than a silently short result.
pub(crate) struct Cursor<'a> {
    reader: Reader<&'a [u8]>,
    depth: usize,
    record_comments: bool,
    comments: Vec<String>,
}

enum Step {
    Open(Element),
    Close,
    Text(String),
    Comment(String),
    Other,
    Eof,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let mut reader = Reader::from_reader(bytes);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Cursor { reader, depth: 0, record_comments: false, comments: Vec::new() }
    }

    /// Keeps the raw text of comments met by [`Cursor::root`] and [`Cursor::child`].
    pub(crate) fn record_comments(mut self) -> Self {
        self.record_comments = true;
        self
    }

    /// Comments recorded since the last call.
    pub(crate) fn take_comments(&mut self) -> Vec<String> {
        std::mem::take(&mut self.comments)
    }

    /// Reads up to and including the root element's opening tag.
    pub(crate) fn root(&mut self) -> Result<Element, FormatError> {
        loop {
            match self.step()? {
                Step::Open(element) => return Ok(element),
                Step::Text(text) if !text.is_empty() => {
                    return Err(self.error("text before the root element; this is not XML"));
                }
                Step::Comment(comment) => self.keep_comment(comment),
                Step::Text(_) | Step::Other => {}
                Step::Close => return Err(self.error("closing tag before the root element")),
                Step::Eof => return Err(self.error("the document has no root element")),
            }
        }
    }

    /// The next child element of the element the cursor is in, or `None` once it closes.
    pub(crate) fn child(&mut self) -> Result<Option<Element>, FormatError> {
        loop {
            match self.step()? {
                Step::Open(element) => return Ok(Some(element)),
                Step::Close => return Ok(None),
                Step::Comment(comment) => self.keep_comment(comment),
                Step::Text(_) | Step::Other => {}
                Step::Eof => return self.at_end().map(|()| None),
            }
        }
    }

    /// The normalised direct text of the element just opened, consuming it to its end.
    pub(crate) fn text(&mut self) -> Result<String, FormatError> {
        let mut text = String::new();
        loop {
            match self.step()? {
                Step::Text(chunk) => text.push_str(&chunk),
                Step::Open(_) => self.skip()?,
                Step::Close => return Ok(text),
                Step::Comment(_) | Step::Other => {}
                Step::Eof => return self.at_end().map(|()| text),
            }
        }
    }

    /// Consumes the element just opened, with everything inside it.
    pub(crate) fn skip(&mut self) -> Result<(), FormatError> {
        let target = self.depth.saturating_sub(1);
        while self.depth > target {
            if let Step::Eof = self.step()? {
                return self.at_end();
            }
        }
        Ok(())
    }

    /// Reads until an element with the given local name opens anywhere below; `None` at the end.
    pub(crate) fn find(&mut self, name: &str) -> Result<Option<Element>, FormatError> {
        loop {
            match self.step()? {
                Step::Open(element) if element.name == name => return Ok(Some(element)),
                Step::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    fn keep_comment(&mut self, comment: String) {
        if self.record_comments {
            self.comments.push(comment);
        }
    }

    fn at_end(&self) -> Result<(), FormatError> {
        if self.depth > 0 {
            return Err(self.error("unexpected end of document; the file is truncated"));
        }
        Ok(())
    }

    fn error(&self, message: &str) -> FormatError {
        FormatError::Xml { position: self.reader.buffer_position(), message: message.to_string() }
    }

    fn step(&mut self) -> Result<Step, FormatError> {
        let event = self.reader.read_event().map_err(|err| FormatError::Xml {
            position: self.reader.error_position(),
            message: err.to_string(),
        })?;
        match event {
            Event::Start(start) => {
                self.depth += 1;
                self.element(&start).map(Step::Open)
            }
            Event::End(_) => {
                self.depth = self.depth.saturating_sub(1);
                Ok(Step::Close)
            }
            Event::Text(text) => self.utf8(&text).map(|raw| Step::Text(normalize_text(raw))),
            Event::CData(data) => self.utf8(&data).map(|raw| Step::Text(normalize_cdata(raw))),
            Event::Comment(comment) => {
                self.utf8(&comment).map(|raw| Step::Comment(raw.to_string()))
            }
            Event::Eof => Ok(Step::Eof),
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => Ok(Step::Other),
        }
    }

    fn utf8<'b>(&self, bytes: &'b [u8]) -> Result<&'b str, FormatError> {
        std::str::from_utf8(bytes).map_err(|err| FormatError::Xml {
            position: self.reader.buffer_position(),
            message: format!("text is not valid UTF-8: {err}"),
        })
    }

    fn element(&self, start: &BytesStart) -> Result<Element, FormatError> {
        let name = self.utf8(start.local_name().into_inner())?.to_string();
        let mut attrs = Vec::new();
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|err| FormatError::Xml {
                position: self.reader.buffer_position(),
                message: err.to_string(),
            })?;
            let key = self.utf8(attr.key.local_name().into_inner())?.to_string();
            let raw = self.utf8(&attr.value)?;
            let value = match quick_xml::escape::unescape(raw) {
                Ok(value) => value.into_owned(),
                Err(_) => htmlize::unescape_attribute(raw).into_owned(),
            };
            attrs.push((key, value));
        }
        Ok(Element { name, attrs })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn walks_children_and_text() {
        let doc = b"<x:a q:k='1 &amp; 2'><b>  t &amp;lt;1&amp;gt; </b><c/><d>x<e>y</e>z</d></x:a>";
        let mut cur = Cursor::new(doc);
        let root = cur.root().unwrap();
        assert_eq!((root.name.as_str(), root.attr("k")), ("a", Some("1 & 2")));
        let b = cur.child().unwrap().unwrap();
        assert_eq!((b.name.as_str(), cur.text().unwrap().as_str()), ("b", "t <1>"));
        assert_eq!(cur.child().unwrap().unwrap().name, "c");
        cur.skip().unwrap();
        assert_eq!(cur.child().unwrap().unwrap().name, "d");
        assert_eq!(cur.text().unwrap(), "xz");
        assert!(cur.child().unwrap().is_none());
    }

    #[test]
    fn truncation_is_an_error() {
        let mut cur = Cursor::new(b"<a><b>text</b><c>more");
        cur.root().unwrap();
        cur.child().unwrap();
        cur.skip().unwrap();
        cur.child().unwrap();
        assert!(matches!(cur.text(), Err(FormatError::Xml { .. })));
    }

    #[test]
    fn non_xml_is_an_error() {
        assert!(matches!(Cursor::new(b"hello").root(), Err(FormatError::Xml { .. })));
        assert!(matches!(Cursor::new(b"").root(), Err(FormatError::Xml { .. })));
        assert!(matches!(Cursor::new(b"\x00\x01<<>").root(), Err(FormatError::Xml { .. })));
    }
}
