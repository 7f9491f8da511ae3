//! DISA's CCI list (`U_CCI_List.xml`): each Control Correlation Identifier with its
//! definition and its references into NIST SP 800-53.

use serde::Serialize;

use crate::text::{non_empty, prepare};
use crate::xml::{Cursor, Element};
use crate::FormatError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cci {
    /// Digits only, e.g. `000366`.
    pub cci: String,
    pub status: Option<String>,
    pub publish_date: Option<String>,
    pub contributor: Option<String>,
    pub definition: String,
    pub cci_type: Option<String>,
    pub references: Vec<CciReference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CciReference {
    pub creator: String,
    pub title: String,
    pub version: String,
    pub location: Option<String>,
    /// DISA's index into the document, e.g. `AC-2 a` or `AC-3 (15) (a)`.
    pub index: String,
}

impl CciReference {
    /// A reference into NIST SP 800-53 itself (not 800-53A, the assessment procedures).
    fn is_800_53(&self) -> bool {
        self.title.contains("800-53") && !self.title.contains("800-53A")
    }

    fn version_number(&self) -> f64 {
        self.version.trim().parse().unwrap_or(0.0)
    }
}

impl Cci {
    /// The SP 800-53 revision 5 index (e.g. `AC-2 a`), else the index from the newest
    /// revision of SP 800-53 the CCI references.
    pub fn ap_acronym(&self) -> Option<String> {
        let refs = || self.references.iter().filter(|r| r.is_800_53());
        let rev5 = refs().find(|r| r.version.trim() == "5");
        let chosen = rev5.or_else(|| newest(refs()));
        chosen.and_then(|r| non_empty(r.index.clone()))
    }

    /// The control the index belongs to: `AC-2` for `AC-2 a`, `AC-2 (1)` or `AC-2(1)`.
    pub fn control(&self) -> Option<String> {
        let acronym = self.ap_acronym()?;
        let end = acronym.find(|c: char| c.is_whitespace() || c == '(').unwrap_or(acronym.len());
        non_empty(acronym[..end].to_string())
    }
}

/// The reference to the highest revision; the first one among equals.
fn newest<'r>(refs: impl Iterator<Item = &'r CciReference>) -> Option<&'r CciReference> {
    refs.fold(None, |best: Option<&CciReference>, r| match best {
        Some(best) if best.version_number() >= r.version_number() => Some(best),
        _ => Some(r),
    })
}

/// Reads DISA's CCI list.
pub fn parse_cci_list(xml: &[u8]) -> Result<Vec<Cci>, FormatError> {
    let bytes = prepare(xml);
    let mut cur = Cursor::new(&bytes);
    let root = cur.root()?;
    if root.name != "cci_list" {
        return Err(FormatError::NotCciList { root: root.name });
    }
    let mut ccis = Vec::new();
    while let Some(el) = cur.child()? {
        if el.name != "cci_items" {
            cur.skip()?;
            continue;
        }
        while let Some(item) = cur.child()? {
            match item.name.as_str() {
                "cci_item" => ccis.push(read_item(&mut cur, &item)?),
                _ => cur.skip()?,
            }
        }
    }
    Ok(ccis)
}

fn read_item(cur: &mut Cursor, item: &Element) -> Result<Cci, FormatError> {
    let id = item.attr("id").unwrap_or_default();
    let mut cci = Cci {
        cci: id.strip_prefix("CCI-").unwrap_or(id).to_string(),
        status: None,
        publish_date: None,
        contributor: None,
        definition: String::new(),
        cci_type: None,
        references: Vec::new(),
    };
    while let Some(el) = cur.child()? {
        match el.name.as_str() {
            "status" => cci.status = non_empty(cur.text()?),
            "publishdate" => cci.publish_date = non_empty(cur.text()?),
            "contributor" => cci.contributor = non_empty(cur.text()?),
            "definition" => cci.definition = cur.text()?,
            "type" => cci.cci_type = non_empty(cur.text()?),
            "references" => read_references(cur, &mut cci.references)?,
            _ => cur.skip()?,
        }
    }
    Ok(cci)
}

fn read_references(
    cur: &mut Cursor,
    references: &mut Vec<CciReference>,
) -> Result<(), FormatError> {
    while let Some(el) = cur.child()? {
        if el.name == "reference" {
            let attr = |name: &str| el.attr(name).unwrap_or_default().to_string();
            references.push(CciReference {
                creator: attr("creator"),
                title: attr("title"),
                version: attr("version"),
                location: non_empty(attr("location")),
                index: attr("index"),
            });
        }
        cur.skip()?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn reference(title: &str, version: &str, index: &str) -> CciReference {
        CciReference {
            creator: "NIST".into(),
            title: title.into(),
            version: version.into(),
            location: None,
            index: index.into(),
        }
    }

    fn cci(references: Vec<CciReference>) -> Cci {
        Cci {
            cci: "000001".into(),
            status: None,
            publish_date: None,
            contributor: None,
            definition: String::new(),
            cci_type: None,
            references,
        }
    }

    #[test]
    fn prefers_revision_5_then_the_newest() {
        let both = cci(vec![
            reference("NIST SP 800-53", "3", "AC-2 (1)"),
            reference("NIST SP 800-53 Revision 5", "5", "AC-2 a"),
        ]);
        assert_eq!(
            (both.ap_acronym().as_deref(), both.control().as_deref()),
            (Some("AC-2 a"), Some("AC-2"))
        );
        let older = cci(vec![
            reference("NIST SP 800-53A", "9", "AC-9.1 (i)"),
            reference("NIST SP 800-53", "3", "AC-3"),
            reference("NIST SP 800-53 Revision 4", "4", "AC-4(1)"),
        ]);
        assert_eq!(
            (older.ap_acronym().as_deref(), older.control().as_deref()),
            (Some("AC-4(1)"), Some("AC-4"))
        );
        assert_eq!(cci(vec![]).ap_acronym(), None);
    }
}
