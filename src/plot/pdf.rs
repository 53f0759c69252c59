//! A figure as PDF, converted from its SVG: vector paths, and text as text in a subset of the
//! DejaVu Sans ceq embeds (no system font is read), on a page of the figure's size at 100 SVG pixels
//! per inch (5.6 × 3.8 in), so its text has the point sizes the style gives it.

use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::geom::Size;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt, SvgSettings};
use usvg::fontdb::Database;

/// SVG pixels per inch: [`super::style::SIZE`] is 5.6 × 3.8 in.
const PX_PER_INCH: f32 = 100.0;

/// The font database every conversion reads: DejaVu Sans, regular and bold, as "sans-serif" too.
fn fonts() -> Arc<Database> {
    static FONTS: OnceLock<Arc<Database>> = OnceLock::new();
    let db = FONTS.get_or_init(|| {
        let mut db = Database::new();
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.load_font_data(dejavu::sans::bold().to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    });
    db.clone()
}

/// The PDF of a figure's SVG (one page), or why it could not be made.
pub fn pdf(svg: &str) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("its SVG: {e}"))?;
    let points = |px: f32| px / PX_PER_INCH * 72.0;
    let (w, h) = (tree.size().width(), tree.size().height());
    let size = Size::from_wh(points(w), points(h)).ok_or("an empty page")?;
    let mut document = Document::new();
    let mut page = document.start_page_with(PageSettings::new(size));
    let mut surface = page.surface();
    let drawn = surface.draw_svg(&tree, size, SvgSettings::default());
    surface.finish();
    page.finish();
    drawn.ok_or("the SVG did not convert to PDF")?;
    document.finish().map_err(|e| format!("its PDF: {e:?}"))
}
