//! Epoch's 240 Chinchilla points (../shared, present on development and CI machines but not shipped):
//! the fit must land on the Huber-sum minimum of REFERENCE_FITS.md. Skipped, loudly, where absent.

use std::path::Path;

use ceq::fit::{FitOptions, fit};
use ceq::law::{Form, Law};
use ceq::table::{ColumnMap, read_family};

#[test]
fn epoch_chinchilla_huber_minimum() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/chinchilla/svg_extracted_data.csv");
    if !p.exists() {
        eprintln!("SKIPPED: {} not found", p.display());
        return;
    }
    let cols = ColumnMap {
        params: "Model Size".into(),
        compute: "Training FLOP".into(),
        ..Default::default()
    };
    let fam = read_family(&p, &cols, Form::Chinchilla, 5).unwrap();
    assert_eq!(fam.checkpoints.len(), 240);
    let f = fit(&fam, &FitOptions::default()).unwrap();
    let Law::Chinchilla(l) = f.law else { panic!() };
    // REFERENCE_FITS.md §3: objective 0.001018274018; E 1.81722, alpha 0.34731, beta 0.36717,
    // A 477.82, B 2143.4 (scipy L-BFGS-B, full grid).
    assert!(
        (f.objective - 0.001018274018).abs() < 1e-11,
        "objective {}",
        f.objective
    );
    assert!((l.e - 1.81722).abs() < 5e-5, "E {}", l.e);
    assert!((l.alpha - 0.34731).abs() < 5e-5, "alpha {}", l.alpha);
    assert!((l.beta - 0.36717).abs() < 5e-5, "beta {}", l.beta);
    assert!(
        (l.a - 477.82).abs() < 0.5 && (l.b - 2143.4).abs() < 3.0,
        "A {} B {}",
        l.a,
        l.b
    );
}
