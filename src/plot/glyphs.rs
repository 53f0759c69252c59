//! Which characters of a figure's text its PNG and PDF draw as empty boxes. Both are drawn with
//! the embedded DejaVu Sans only (no system fonts are read), which has no CJK script among others;
//! the SVG names that font first and the viewer falls back on its own, so only those two lose them.

use std::collections::BTreeSet;

use ab_glyph::{Font, FontRef};

use super::Figure;

/// The characters of `svg`'s text that its face of DejaVu Sans (regular, or bold for bold text)
/// has no glyph for.
fn missing(svg: &str) -> BTreeSet<char> {
    let face = |bytes| FontRef::try_from_slice(bytes).expect("the bundled DejaVu Sans is valid");
    let (regular, bold) = (face(dejavu::sans::regular()), face(dejavu::sans::bold()));
    let mut out = BTreeSet::new();
    // plotters writes each text as `<text …attributes…>content</text>`, escaping only ASCII.
    for chunk in svg.split("<text").skip(1) {
        let Some((tag, rest)) = chunk.split_once('>') else {
            continue;
        };
        let text = rest.split("</text>").next().unwrap_or("");
        let font = match tag.contains("font-weight=\"bold\"") {
            true => &bold,
            false => &regular,
        };
        let lacks = |c: &char| !c.is_ascii() && !c.is_whitespace() && font.glyph_id(*c).0 == 0;
        out.extend(text.chars().filter(lacks));
    }
    out
}

/// A warning naming the characters the PNGs and PDFs of `drawn` (figures and their SVGs) draw as
/// boxes, and the figures; `None` when every character has its glyph.
pub fn glyph_warning(drawn: &[(Figure, String)]) -> Option<String> {
    let mut chars = BTreeSet::new();
    let mut figures = vec![];
    for (fig, svg) in drawn {
        let m = missing(svg);
        if !m.is_empty() {
            figures.push(fig.stem());
            chars.extend(m);
        }
    }
    if chars.is_empty() {
        return None;
    }
    const SHOWN: usize = 8;
    let mut list: Vec<String> = chars.iter().take(SHOWN).map(|c| format!("'{c}'")).collect();
    if chars.len() > SHOWN {
        list.push(format!("and {} more", chars.len() - SHOWN));
    }
    Some(format!(
        "the PNG(s) and PDF(s) of {} draw {} character(s) as empty boxes: the font ceq embeds for \
         them (DejaVu Sans) has no glyph for {}; the SVGs (and the report page) show them in the \
         viewer's fonts, so use the SVGs, or names in Latin, Greek or Cyrillic letters",
        figures.join(", "),
        chars.len(),
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_is_missing_and_latin_greek_cyrillic_are_not() {
        let svg = "<text x=\"1\">model 模型 &amp; αβ ж é</text><text font-weight=\"bold\">Ω</text>";
        assert_eq!(missing(svg), BTreeSet::from(['模', '型']));
    }
}
