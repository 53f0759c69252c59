//! The full-grid Chinchilla fit (4500 starts) and a 1000-resample bootstrap, on the synthetic family (tests/fixtures/synth/checkpoints.csv)
//! (70 synthetic points) and, where it is present, on Epoch's 240 Chinchilla points in ../shared.
//! Run: `cargo bench --bench fit`. Side by side with scipy: `python3 benches/compare_scipy.py`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ceq::fit::bootstrap::bootstrap;
use ceq::fit::{BootstrapOptions, FitOptions, Solver, fit};
use ceq::law::Form;
use ceq::table::{ColumnMap, Family, read_family};
use criterion::{Criterion, criterion_group, criterion_main};

fn families() -> Vec<(&'static str, Family)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![(
        "synthetic70",
        read_family(
            &root.join("tests/fixtures/synth/checkpoints.csv"),
            &ColumnMap::default(),
            Form::Chinchilla,
            0,
        )
        .unwrap(),
    )];
    let epoch: PathBuf = root.join("../shared/data/chinchilla/svg_extracted_data.csv");
    if epoch.exists() {
        let cols = ColumnMap {
            params: "Model Size".into(),
            compute: "Training FLOP".into(),
            ..Default::default()
        };
        out.push((
            "epoch240",
            read_family(&epoch, &cols, Form::Chinchilla, 5).unwrap(),
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("chinchilla");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, fam) in families() {
        g.bench_function(format!("grid_fit_4500/{name}"), |b| {
            b.iter(|| fit(&fam, &FitOptions::default()).unwrap())
        });
        let f = fit(&fam, &FitOptions::default()).unwrap();
        g.bench_function(format!("bootstrap_1000/{name}"), |b| {
            b.iter(|| {
                bootstrap(
                    &f,
                    &BootstrapOptions { n: 1000, seed: 0 },
                    &Solver::default(),
                    &|| {},
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
