//! CKL output: STIG Viewer 2's XML checklist, element for element in the order STIG Manager
//! writes it.

use std::borrow::Cow;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{ckl_status, ExportAsset, ExportRule, ExportStig};
use crate::FormatError;

/// The constant `uuid` STIG Manager writes into every CKL `STIG_INFO`.
const STIG_INFO_UUID: &str = "391aad33-3cc3-4d9a-b5f7-0d7538b7b5a2";

/// Writes a CKL holding every STIG in `stigs` for `asset`. `producer` names the software in
/// the leading comment; `marking` is the classification comment.
pub fn write_ckl(
    asset: &ExportAsset,
    stigs: &[ExportStig],
    producer: &str,
    marking: &str,
) -> Result<Vec<u8>, FormatError> {
    let mut out = Xml(Writer::new_with_indent(Vec::new(), b' ', 2));
    out.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    out.event(Event::Comment(BytesText::from_escaped(format!(" {producer} "))))?;
    out.event(Event::Comment(BytesText::from_escaped(format!(" Classification: {marking} "))))?;
    out.open("CHECKLIST")?;
    write_asset(&mut out, asset)?;
    out.open("STIGS")?;
    for stig in stigs {
        write_stig(&mut out, stig)?;
    }
    out.close("STIGS")?;
    out.close("CHECKLIST")?;
    Ok(out.0.into_inner())
}

fn write_asset(out: &mut Xml, asset: &ExportAsset) -> Result<(), FormatError> {
    let web = asset.meta("cklHostName").is_some();
    out.open("ASSET")?;
    out.leaf("ROLE", asset.meta("cklRole").unwrap_or("None"))?;
    out.leaf("ASSET_TYPE", if asset.noncomputing { "Non-Computing" } else { "Computing" })?;
    out.leaf("MARKING", "")?;
    out.leaf("HOST_NAME", asset.host_name())?;
    out.leaf("HOST_IP", asset.ip.as_deref().unwrap_or_default())?;
    out.leaf("HOST_MAC", asset.mac.as_deref().unwrap_or_default())?;
    out.leaf("HOST_GUID", "")?;
    out.leaf("HOST_FQDN", asset.fqdn.as_deref().unwrap_or_default())?;
    out.leaf("TECH_AREA", asset.meta("cklTechArea").unwrap_or_default())?;
    out.leaf("TARGET_KEY", "2777")?;
    out.leaf("WEB_OR_DATABASE", if web { "true" } else { "false" })?;
    out.leaf("WEB_DB_SITE", asset.meta("cklWebDbSite").unwrap_or_default())?;
    out.leaf("WEB_DB_INSTANCE", asset.meta("cklWebDbInstance").unwrap_or_default())?;
    out.close("ASSET")
}

fn write_stig(out: &mut Xml, stig: &ExportStig) -> Result<(), FormatError> {
    out.open("iSTIG")?;
    out.open("STIG_INFO")?;
    let info: [(&str, Option<String>); 11] = [
        ("version", Some(stig.version.clone())),
        ("classification", None),
        ("customname", None),
        ("stigid", Some(stig.benchmark_id.clone())),
        ("description", stig.description.clone()),
        ("filename", Some("stig-manager-oss".into())),
        ("releaseinfo", Some(stig.release_info())),
        ("title", Some(stig.title.clone())),
        ("uuid", Some(STIG_INFO_UUID.into())),
        ("notice", Some("terms-of-use".into())),
        ("source", None),
    ];
    for (name, data) in info {
        out.open("SI_DATA")?;
        out.leaf("SID_NAME", name)?;
        if let Some(data) = data {
            out.leaf("SID_DATA", &data)?;
        }
        out.close("SI_DATA")?;
    }
    out.close("STIG_INFO")?;
    let stig_ref = format!("{} :: Version {}, {}", stig.title, stig.version, stig.release_info());
    for rule in &stig.rules {
        write_vuln(out, rule, &stig_ref)?;
    }
    out.close("iSTIG")
}

fn write_vuln(out: &mut Xml, rule: &ExportRule, stig_ref: &str) -> Result<(), FormatError> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let pairs = [
        ("Vuln_Num", rule.group_id.clone()),
        ("Severity", rule.severity.clone()),
        ("Weight", text(&rule.weight)),
        ("Group_Title", text(&rule.group_title)),
        ("Rule_ID", rule.rule_id.clone()),
        ("Rule_Ver", rule.version.clone()),
        ("Rule_Title", rule.title.clone()),
        ("Vuln_Discuss", text(&rule.vuln_discussion)),
        ("IA_Controls", text(&rule.ia_controls)),
        ("Check_Content", rule.check_content.clone()),
        ("Fix_Text", rule.fix_text.clone()),
        ("False_Positives", text(&rule.false_positives)),
        ("False_Negatives", text(&rule.false_negatives)),
        ("Documentable", text(&rule.documentable)),
        ("Mitigations", text(&rule.mitigations)),
        ("Potential_Impact", text(&rule.potential_impacts)),
        ("Third_Party_Tools", text(&rule.third_party_tools)),
        ("Mitigation_Control", text(&rule.mitigation_control)),
        ("Responsibility", text(&rule.responsibility)),
        // STIG Viewer reads this misnamed attribute, so it is kept.
        ("Security_Override_Guidance", text(&rule.severity_override_guidance)),
        ("STIGRef", stig_ref.to_string()),
    ];
    out.open("VULN")?;
    let ccis = rule.ccis.iter().map(|cci| ("CCI_REF", format!("CCI-{cci}")));
    for (attribute, data) in pairs.into_iter().chain(ccis) {
        out.open("STIG_DATA")?;
        out.leaf("VULN_ATTRIBUTE", attribute)?;
        out.leaf("ATTRIBUTE_DATA", &data)?;
        out.close("STIG_DATA")?;
    }
    let review = rule.review.as_ref();
    out.leaf("STATUS", ckl_status(review))?;
    out.leaf("FINDING_DETAILS", review.map(|r| r.detail.as_str()).unwrap_or_default())?;
    out.leaf("COMMENTS", review.map(|r| r.comment.as_str()).unwrap_or_default())?;
    out.leaf("SEVERITY_OVERRIDE", "")?;
    out.leaf("SEVERITY_JUSTIFICATION", "")?;
    out.close("VULN")
}

/// A quick-xml writer with the few shapes these documents use.
pub(super) struct Xml(pub(super) Writer<Vec<u8>>);

impl Xml {
    pub(super) fn event(&mut self, event: Event) -> Result<(), FormatError> {
        self.0.write_event(event).map_err(|e| FormatError::Write(e.to_string()))
    }

    pub(super) fn open(&mut self, name: &str) -> Result<(), FormatError> {
        self.event(Event::Start(BytesStart::new(name)))
    }

    pub(super) fn open_with(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
    ) -> Result<(), FormatError> {
        self.event(Event::Start(start(name, attrs)))
    }

    pub(super) fn close(&mut self, name: &str) -> Result<(), FormatError> {
        self.event(Event::End(BytesEnd::new(name)))
    }

    /// An element holding only text; empty text gives an empty element.
    pub(super) fn leaf(&mut self, name: &str, text: &str) -> Result<(), FormatError> {
        self.leaf_with(name, &[], text)
    }

    pub(super) fn leaf_with(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> Result<(), FormatError> {
        let start = start(name, attrs);
        let text = xml_chars(text);
        if text.is_empty() {
            return self.event(Event::Empty(start));
        }
        self.event(Event::Start(start))?;
        self.event(Event::Text(BytesText::new(&text)))?;
        self.close(name)
    }
}

fn start<'a>(name: &'a str, attrs: &[(&str, &str)]) -> BytesStart<'a> {
    let values: Vec<Cow<'_, str>> = attrs.iter().map(|(_, value)| xml_chars(value)).collect();
    let attrs = attrs.iter().zip(&values).map(|((key, _), value)| (*key, value.as_ref()));
    BytesStart::new(name).with_attributes(attrs)
}

/// `text` without the characters XML 1.0 cannot carry, escaped or not (control characters
/// other than tab, line feed and carriage return; U+FFFE and U+FFFF): the API stores whatever
/// text it is sent, and an exported checklist must still parse.
fn xml_chars(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    match text.chars().all(allowed) {
        true => Cow::Borrowed(text),
        false => Cow::Owned(text.chars().filter(|c| allowed(*c)).collect()),
    }
}
