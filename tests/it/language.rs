//! The study's synthetic language (src/study/language.rs): its forward algorithm against brute
//! force over every hidden path, and its Monte Carlo floor against the exact expectation.

use ceq::study::{Corpus, Language};

fn tiny() -> Corpus {
    Language {
        vocab: 4,
        quanta: 3,
        zipf: 1.0,
        switch: 0.3,
        branching: 2,
        seed: 7,
    }
    .build()
    .unwrap()
}

/// P(x_1..x_n) by summing over every quantum path (no recursion shared with the forward algorithm).
fn brute_prob(c: &Corpus, xs: &[u32]) -> f64 {
    let (k, rho, p) = (c.prior().len(), c.settings.switch, c.prior());
    let n = xs.len();
    let mut total = 0.0;
    for code in 0..k.pow(n as u32) {
        let path: Vec<usize> = (0..n).map(|i| code / k.pow(i as u32) % k).collect();
        let mut pr = p[path[0]] * c.transition(path[0], 0, xs[0]);
        for t in 1..n {
            let stay = if path[t] == path[t - 1] {
                1.0 - rho
            } else {
                0.0
            };
            pr *= (stay + rho * p[path[t]]) * c.transition(path[t], xs[t - 1], xs[t]);
        }
        total += pr;
    }
    total
}

/// Every sequence of `n` tokens from 1..vocab.
fn all_sequences(vocab: u32, n: usize) -> Vec<Vec<u32>> {
    let m = (vocab - 1) as usize;
    (0..m.pow(n as u32))
        .map(|code| {
            (0..n)
                .map(|i| 1 + (code / m.pow(i as u32) % m) as u32)
                .collect()
        })
        .collect()
}

#[test]
fn the_forward_algorithm_is_brute_force_marginalisation() {
    let c = tiny();
    let n = 4;
    let mut mass = 0.0;
    for xs in all_sequences(4, n) {
        let p_all = brute_prob(&c, &xs);
        mass += p_all;
        if p_all == 0.0 {
            continue;
        }
        let mut row = vec![0u32];
        row.extend(&xs);
        let nll = c.nll(&row);
        for t in 0..n {
            let cond = brute_prob(&c, &xs[..=t])
                / if t == 0 {
                    1.0
                } else {
                    brute_prob(&c, &xs[..t])
                };
            assert!(
                (nll[t] - (-cond.ln())).abs() < 1e-12,
                "{xs:?} position {t}: forward {} vs brute force {}",
                nll[t],
                -cond.ln()
            );
        }
    }
    assert!((mass - 1.0).abs() < 1e-12, "probabilities sum to {mass}");
}

#[test]
fn the_monte_carlo_floor_matches_the_exact_expectation() {
    let c = tiny();
    let n = 4;
    // Exact expected NLL of each position: Σ over sequences of P(sequence) · −ln P(x_t | x_<t).
    let mut exact = vec![0.0; n];
    for xs in all_sequences(4, n) {
        let p_all = brute_prob(&c, &xs);
        for (t, e) in exact.iter_mut().enumerate() {
            let p_t = brute_prob(&c, &xs[..=t]);
            if p_t > 0.0 {
                let prev = if t == 0 {
                    1.0
                } else {
                    brute_prob(&c, &xs[..t])
                };
                *e += p_all * -(p_t / prev).ln();
            }
        }
    }
    // All positions (keep_special), and without the one holding BOS.
    for (keep, from) in [(true, 0), (false, 1)] {
        let want = exact[from..].iter().sum::<f64>() / (n - from) as f64;
        let f = c.floor(20_000, n + 1, 11, keep);
        assert_eq!(f.positions, 20_000 * (n - from));
        assert!(f.se > 0.0 && f.se < 0.01, "se {}", f.se);
        assert!(
            (f.mean - want).abs() < 4.0 * f.se,
            "keep_special {keep}: Monte Carlo {} ± {} vs exact {want}",
            f.mean,
            f.se
        );
    }
}

#[test]
fn samples_are_seeded_rows_of_the_language() {
    let c = Language {
        vocab: 64,
        quanta: 50,
        zipf: 1.2,
        switch: 0.02,
        branching: 3,
        seed: 1,
    }
    .build()
    .unwrap();
    let a = c.sample(10, 32, 5);
    assert_eq!(a, c.sample(10, 32, 5));
    assert_ne!(a, c.sample(10, 32, 6));
    for row in a.chunks(32) {
        assert_eq!(row[0], 0);
        assert!(row[1..].iter().all(|&t| t != 0 && t < 64));
        // Every sampled row is possible under the language.
        assert!(c.nll(row).iter().all(|v| v.is_finite()));
    }
    // The floor is far below a unigram model's loss and above zero.
    let f = c.floor(500, 32, 9, false);
    assert!(f.mean > 0.05 && f.mean < (63f64).ln() / 2.0, "{f:?}");
}

#[test]
fn bad_settings_are_refused_naming_the_setting() {
    let ok = Language {
        vocab: 8,
        quanta: 2,
        zipf: 1.0,
        switch: 0.1,
        branching: 2,
        seed: 0,
    };
    for (lang, word) in [
        (
            Language {
                vocab: 2,
                ..ok.clone()
            },
            "vocab",
        ),
        (
            Language {
                branching: 8,
                ..ok.clone()
            },
            "branching",
        ),
        (
            Language {
                quanta: 0,
                ..ok.clone()
            },
            "quanta",
        ),
        (
            Language {
                switch: 1.5,
                ..ok.clone()
            },
            "switch",
        ),
        (
            Language {
                zipf: f64::NAN,
                ..ok.clone()
            },
            "zipf",
        ),
    ] {
        let e = lang.build().unwrap_err().to_string();
        assert!(e.contains(word), "{word}: {e}");
    }
}
