//! One splice through one law, against numbers worked out by hand from the closed forms.

use ceq::equivalence::{IntervalSpec, Mapped, Status};
use ceq::fit::Ranges;
use ceq::law::{ComputeLaw, Law};
use ceq::table::Splice;

use crate::common::close;

fn splice(clean: f64, spliced: f64, zero: Option<f64>, compute: Option<f64>) -> Splice {
    Splice {
        name: "s".into(),
        ce_clean: clean,
        ce_spliced: spliced,
        ce_zero_ablation: zero,
        ce_mean_ablation: None,
        params: None,
        tokens: None,
        compute,
        compute_given: compute.is_some(),
        counts: Default::default(),
        raw: vec![],
        line: 2,
        se: Default::default(),
    }
}

/// Maps one splice with the law's refits (if any) and no CE noise.
fn map_splice(law: &Law, ranges: &Ranges, boot: Option<(&[Law], f64)>, s: &Splice) -> Mapped {
    let spec = IntervalSpec {
        refits: boot.map(|b| b.0),
        level: boot.map_or(0.9, |b| b.1),
        seed: 0,
        ce_noise: false,
        joint: None,
    };
    ceq::equivalence::map_splice(law, ranges, &spec, s, 0)
}

const LAW: ComputeLaw = ComputeLaw {
    e: 2.0,
    a: 100.0,
    alpha: 0.1,
};
const RANGES: Ranges = Ranges {
    loss: (2.5, 5.0),
    compute: (1e18, 1e22),
    params: (1e8, 1e10),
    tokens: (1e9, 1e11),
};

#[test]
fn compute_law_numbers_by_hand() {
    // C(L) = ((L − 2)/100)^(−10): C(3.0) = 100^10 = 1e20, C(3.2) = (1.2/100)^(−10).
    let m = map_splice(
        &Law::Compute(LAW),
        &RANGES,
        None,
        &splice(3.0, 3.2, Some(12.0), Some(2e20)),
    );
    let c_spliced = (1.2f64 / 100.0).powf(-10.0);
    assert!(close(m.eq.compute_clean.unwrap(), 1e20, 1e-12));
    assert!(close(m.eq.compute.unwrap(), c_spliced, 1e-12));
    assert!(close(m.eq.fraction.unwrap(), c_spliced / 1e20, 1e-12));
    // (1/1.2)^10 = 0.16150558…, −log10 of it = 10·log10(1.2) = 0.79181…
    assert!(close(
        m.eq.fraction.unwrap(),
        0.161_505_582_889_845_6,
        1e-12
    ));
    assert!(close(
        m.eq.log10_ratio.unwrap(),
        10.0 * 1.2f64.log10(),
        1e-12
    ));
    assert!(close(
        m.eq.fraction_of_actual.unwrap(),
        c_spliced / 2e20,
        1e-12
    ));
    assert!(close(m.delta_loss, 0.2, 1e-12));
    assert!(close(m.loss_recovered.unwrap(), 1.0 - 0.2 / 9.0, 1e-12));
    assert_eq!(m.status, Status::Ok, "{}", m.detail);
}

#[test]
fn compute_past_f64_still_gives_its_fraction() {
    // α = 0.02: C(L) = ((L − 2)/100)^(−50). C(2.00001) = 1e350 passes f64's range, C(2.0001) =
    // 1e300 does not; their ratio is 10^(−50) all the same, and −log10 of it 50.
    let shallow = ComputeLaw { alpha: 0.02, ..LAW };
    let m = map_splice(
        &Law::Compute(shallow),
        &RANGES,
        None,
        &splice(2.00001, 2.0001, None, None),
    );
    let r = (2.0001f64 - 2.0) / (2.00001 - 2.0); // 10, up to the CEs' rounding
    assert!(close(r, 10.0, 1e-9));
    assert_eq!(m.eq.compute_clean, None, "beyond 1.8e308 FLOPs is no f64");
    assert!(close(m.eq.compute.unwrap(), r.powf(50.0) * 1e250, 1e-6));
    assert!(close(m.eq.fraction.unwrap(), r.powf(-50.0), 1e-9));
    assert!(close(m.eq.log10_ratio.unwrap(), 50.0 * r.log10(), 1e-9));
    assert!(close(r.powf(-50.0), 1e-50, 1e-6));
    assert_eq!(m.status, Status::Extrapolated);
    assert!(
        m.detail
            .contains("ce_clean maps to over 1.8e308 FLOPs of compute"),
        "{}",
        m.detail
    );
}

#[test]
fn below_the_floor_is_flagged_and_empty() {
    let m = map_splice(
        &Law::Compute(LAW),
        &RANGES,
        None,
        &splice(1.9, 3.0, None, None),
    );
    assert_eq!(m.status, Status::BelowFloor);
    assert!(m.detail.contains("ce_clean"), "{}", m.detail);
    assert_eq!(m.eq.fraction, None);
    assert_eq!(m.eq.compute_clean, None);
    assert!(m.eq.compute.is_some());
}

#[test]
fn no_interval_without_a_point_estimate() {
    let boot: Vec<Law> = [0.09, 0.1, 0.11]
        .iter()
        .map(|&alpha| Law::Compute(ComputeLaw { alpha, ..LAW }))
        .collect();
    let m = map_splice(
        &Law::Compute(LAW),
        &RANGES,
        Some((&boot, 0.9)),
        &splice(1.9, 3.0, None, None),
    );
    assert_eq!(m.eq.fraction, None);
    let ci = m.ci.unwrap();
    assert_eq!(ci.fraction, None);
    assert_eq!(ci.compute_clean, None);
    assert!(
        ci.compute.is_some(),
        "ce_spliced is above the floor: its compute has an interval"
    );
}

/// Loss recovered is undefined, and said so; the compute numbers and their status stand.
#[test]
fn zero_ablation_below_clean_leaves_loss_recovered_undefined() {
    let m = map_splice(
        &Law::Compute(LAW),
        &RANGES,
        None,
        &splice(3.0, 3.2, Some(2.9), None),
    );
    assert_ne!(m.status, Status::Undefined);
    assert_eq!(m.loss_recovered, None);
    assert!(m.detail.contains("loss_recovered is undefined"));
    assert!(m.eq.fraction.is_some());
}

#[test]
fn extrapolation_says_how_far() {
    // C(4.0) = (2/100)^(−10) = 50^10 ≈ 9.77e16: 10.2× below the smallest fitted compute, 1e18.
    let m = map_splice(
        &Law::Compute(LAW),
        &RANGES,
        None,
        &splice(3.0, 4.0, None, None),
    );
    assert_eq!(m.status, Status::Extrapolated);
    // To three significant figures: 10.2x.
    let factor = 1e18 / 0.02f64.powf(-10.0);
    assert!(
        m.detail.contains(&format!("{factor:.1}x below")),
        "{}",
        m.detail
    );
}

#[test]
fn bootstrap_intervals_bracket_the_estimate() {
    let boot: Vec<Law> = [0.09, 0.095, 0.1, 0.105, 0.11]
        .iter()
        .map(|&alpha| Law::Compute(ComputeLaw { alpha, ..LAW }))
        .collect();
    let m = map_splice(
        &Law::Compute(LAW),
        &RANGES,
        Some((&boot, 0.9)),
        &splice(3.0, 3.2, None, None),
    );
    let ci = m.ci.unwrap();
    // The fraction (1/1.2)^(1/alpha) rises with alpha: the interval runs from alpha ≈ 0.092 to 0.108,
    // interpolated between refits on the fraction's log scale.
    let (lo, hi) = ci.fraction.unwrap();
    assert!(lo < m.eq.fraction.unwrap() && m.eq.fraction.unwrap() < hi);
    let at = |alpha: f64| (1.0f64 / 1.2).powf(1.0 / alpha);
    let between = |a: f64, b: f64, w: f64| (a.ln() + w * (b.ln() - a.ln())).exp();
    assert!(
        close(lo, between(at(0.09), at(0.095), 0.2), 1e-12),
        "lo {lo}"
    );
    // compute_fraction's interval is 10^−(log10_compute_ratio's).
    let (rlo, rhi) = ci.log10_ratio.unwrap();
    assert!(close(lo, 10f64.powf(-rhi), 1e-12) && close(hi, 10f64.powf(-rlo), 1e-12));
    assert_eq!(ci.used, 5);
}
