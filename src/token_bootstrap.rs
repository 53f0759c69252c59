//! The joint token bootstrap: when a family (eval-family's checkpoints file) and the splices (a
//! sweep's file) were measured by ceq on the same token set, each replicate draws the eval
//! sequences with replacement (and the family's checkpoints or runs, as the law's bootstrap does),
//! recomputes every checkpoint loss and every clean/spliced CE as the token-weighted mean over the
//! drawn sequences, refits the law to the resampled family and maps the resampled splices through
//! that refit. The intervals then hold the law's and the tokens' sampling error together, with the
//! correlation that a family and splices measured on the same tokens share.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{DataKind, Error, Result};
use crate::eval::ledger::{Sequences, is_mean_of};
use crate::fit::bootstrap::{refit, thin_resamples, unit_counts, units};
use crate::fit::{Bootstrap, Fit, Progress, Solver, Stage};
use crate::map::{MapResult, map_joint};
use crate::pipeline::FitJob;
use crate::table::{Checkpoint, Splices, same_token_set};

/// Mixed into the seed of the sequence draws, so that they are not the checkpoint draws' stream.
const SEQ_SEED: u64 = 0x746f_6b65_6e62_6f6f;

/// One replicate's draw: how many times each unit of the law's bootstrap (checkpoint or run) and
/// each eval sequence is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    pub units: Vec<f64>,
    pub seqs: Vec<f64>,
}

/// `n` seeded draws: replicate i's units are the law bootstrap's resample i (the same seed gives
/// the same checkpoints or runs), its sequences n_seq draws with replacement from their own stream.
pub fn draws(seed: u64, n: usize, n_units: usize, n_seq: usize) -> Vec<Draw> {
    (0..n)
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SEQ_SEED);
            rng.set_stream(i as u64);
            let mut seqs = vec![0.0; n_seq];
            for _ in 0..n_seq {
                seqs[rng.random_range(0..n_seq)] += 1.0;
            }
            Draw {
                units: unit_counts(seed, i, n_units),
                seqs,
            }
        })
        .collect()
}

/// The token-weighted mean of per-sequence means `m` over positions `n`, each sequence counted `w`
/// times; a sequence with no scored position adds nothing.
pub fn resampled_mean(m: &[f64], n: &[f64], w: &[f64]) -> f64 {
    let (mut sum, mut count) = (0.0, 0.0);
    for ((m, n), w) in m.iter().zip(n).zip(w) {
        if *n > 0.0 && *w > 0.0 {
            sum += w * n * m;
            count += w * n;
        }
    }
    sum / count
}

/// The family and the splices, matched to their per-sequence values and checked to share a token
/// set.
#[derive(Clone, Debug)]
pub struct Paired {
    /// Per fitted checkpoint (the fit's order): its per-sequence means and counts.
    family: Vec<(Vec<f64>, Vec<f64>)>,
    /// Per splice (file order): clean means, spliced means, counts.
    splices: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)>,
    pub n_seq: usize,
}

fn data(path: &Path, message: String) -> Error {
    Error::Data {
        kind: DataKind::Mismatch,
        path: path.to_owned(),
        message,
    }
}

/// What to do about a value that is not the mean of its row's per-sequence values: where it is
/// another row's mean, the rows were put in another order than the arrays beside the file, which
/// ceq matches to them by position (a sorted file); else the file was edited.
fn not_the_mean(got: f64, seqs: &Sequences) -> &'static str {
    let moved = seqs.n_seq > 0
        && seqs.values.iter().any(|(name, v)| {
            let n = seqs.counts.get(name);
            n.is_some_and(|n| v.chunks(seqs.n_seq).any(|m| is_mean_of(got, m, n)))
        });
    if moved {
        "the rows are in another order than the per-sequence arrays beside the file, which ceq \
         matches to them by position: put the rows back in the order ceq wrote them"
    } else {
        "the file was edited after ceq wrote it; evaluate again"
    }
}

impl Paired {
    /// Matches every fitted checkpoint and every splice to its per-sequence values, by name, and
    /// refuses files measured on different token sets, or whose losses are not the means of their
    /// per-sequence values (a file edited after ceq wrote it).
    pub fn new(
        fit: &Fit,
        family: &Sequences,
        splices: &Splices,
        sequences: &Sequences,
    ) -> Result<Paired> {
        // The fitted checkpoints' set (the fit refuses two): rows `--run` or `--drop-highest`
        // leave out may have been measured on others.
        let fam_tokens = (fit.checkpoints.iter())
            .find_map(|c| family.eval_tokens.get(c.name.as_deref()?))
            .ok_or_else(|| data(&family.csv, "no checkpoints: nothing to resample".into()))?;
        for s in &splices.rows {
            let Some(t) = sequences.eval_tokens.get(&s.name) else {
                continue;
            };
            if !same_token_set(t, fam_tokens) {
                return Err(data(
                    &sequences.csv,
                    format!(
                        "line {}: '{}' was measured on {t}, but the family ({}) on {fam_tokens}; \
                         resampling sequences jointly needs both measured on one token set (the \
                         same ids and the same special-token policy): evaluate the family and the \
                         SAEs on the same tokens",
                        s.line,
                        s.name,
                        family.csv.display()
                    ),
                ));
            }
        }
        if family.n_seq != sequences.n_seq {
            return Err(data(
                &sequences.csv,
                format!(
                    "{} sequences per row, but the family ({}) has {}: they were not measured on \
                     one token set; evaluate both on the same tokens",
                    sequences.n_seq,
                    family.csv.display(),
                    family.n_seq
                ),
            ));
        }
        let n_seq = family.n_seq;
        let fam = fit
            .checkpoints
            .iter()
            .map(|c: &Checkpoint| {
                let name = c.name.as_deref().unwrap_or("");
                let (Some(m), Some(n)) = (family.values.get(name), family.counts.get(name)) else {
                    return Err(data(
                        &family.csv,
                        format!(
                            "line {}: checkpoint '{name}' has no per-sequence losses beside the file",
                            c.line
                        ),
                    ));
                };
                if !is_mean_of(c.loss, m, n) {
                    return Err(data(
                        &family.csv,
                        format!(
                            "line {}: the loss of '{name}' ({}) is not the mean of its per-sequence \
                             losses ({}): {}",
                            c.line,
                            c.loss,
                            resampled_mean(m, n, &vec![1.0; n_seq]),
                            not_the_mean(c.loss, family)
                        ),
                    ));
                }
                Ok((m.clone(), n.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        let sp = splices
            .rows
            .iter()
            .map(|s| {
                let (Some(v), Some(n)) =
                    (sequences.values.get(&s.name), sequences.counts.get(&s.name))
                else {
                    return Err(data(
                        &sequences.csv,
                        format!(
                            "line {}: '{}' has no per-sequence CEs beside the file",
                            s.line, s.name
                        ),
                    ));
                };
                let (c, sp) = v.split_at(n_seq);
                for (what, got, m) in [
                    ("ce_clean", s.ce_clean, c),
                    ("ce_spliced", s.ce_spliced, sp),
                ] {
                    if !is_mean_of(got, m, n) {
                        return Err(data(
                            &sequences.csv,
                            format!(
                                "line {}: the {what} of '{}' ({got}) is not the mean of its \
                                 per-sequence CEs: {}",
                                s.line,
                                s.name,
                                not_the_mean(got, sequences)
                            ),
                        ));
                    }
                }
                Ok((c.to_vec(), sp.to_vec(), n.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Paired {
            family: fam,
            splices: sp,
            n_seq,
        })
    }
}

/// What a joint bootstrap gives: the refits, and per splice each refit's resampled CEs.
#[derive(Clone, Debug)]
pub struct Joint {
    pub bootstrap: Bootstrap,
    /// Per splice (file order), per successful refit: (ce_clean, ce_spliced).
    pub ces: Vec<Vec<(f64, f64)>>,
}

/// The joint bootstrap over `draws` (see [`draws`]; a test may give its own): one refit per draw
/// and the splices' CEs from the same sequences. A draw whose every start fails is left out of
/// both. `seed` is recorded in the result.
pub fn joint(
    fit: &Fit,
    paired: &Paired,
    draws: &[Draw],
    seed: u64,
    solver: &Solver,
    tick: &(dyn Fn() + Sync),
) -> Joint {
    let (unit, unit_of, _) = units(fit);
    let results: Vec<Option<Vec<f64>>> = draws
        .par_iter()
        .map(|d| {
            let cks: Vec<Checkpoint> = fit
                .checkpoints
                .iter()
                .zip(&paired.family)
                .map(|(c, (m, n))| Checkpoint {
                    loss: resampled_mean(m, n, &d.seqs),
                    ..c.clone()
                })
                .collect();
            let w: Vec<f64> = unit_of.iter().map(|&u| d.units[u]).collect();
            let r = refit(fit, &cks, &w, solver);
            tick();
            r
        })
        .collect();
    let ok: Vec<&Draw> = draws
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_some())
        .map(|(d, _)| d)
        .collect();
    let ces = paired
        .splices
        .iter()
        .map(|(c, s, n)| {
            ok.iter()
                .map(|d| (resampled_mean(c, n, &d.seqs), resampled_mean(s, n, &d.seqs)))
                .collect()
        })
        .collect();
    let failed = results.iter().filter(|r| r.is_none()).count();
    Joint {
        bootstrap: Bootstrap {
            resamples: draws.len(),
            seed,
            unit,
            failed,
            thetas: results.into_iter().flatten().collect(),
        },
        ces,
    }
}

/// What a joint bootstrap resampled, for every output: with `splices`, the family's losses and the
/// splices' CEs together; without, what the law file keeps, whose refits hold the family's token
/// noise only (splices mapped with it later are taken as exact, and say so).
pub fn describe(b: &Bootstrap, n_seq: usize, splices: bool) -> String {
    format!(
        "token bootstrap: {} replicates over {n_seq} sequences{}, each also resampling the \
         family's {}s, seed {}{}",
        b.resamples,
        if splices {
            ", family + splices jointly"
        } else {
            ""
        },
        format!("{:?}", b.unit).to_lowercase(),
        b.seed,
        if b.failed > 0 {
            format!("; {} failed to refit, left out", b.failed)
        } else {
            String::new()
        }
    )
}

/// The joint token bootstrap, for the library's callers too: fits `job`'s family (an eval-family
/// checkpoints file), reads the per-sequence CEs beside the splices file at `path` (a sweep's),
/// checks both were measured on one token set, and maps `table` (that file's rows, or some of
/// them) with the joint bootstrap's intervals (`job`'s bootstrap count, seed and level).
pub fn map_token_bootstrap(
    job: &FitJob,
    (path, table): (&Path, Splices),
    on: &(dyn Fn(Progress) + Sync),
) -> Result<MapResult> {
    let spec = job.spec();
    if spec.bootstrap == 0 {
        return Err(Error::Invalid {
            fix: None,
            option: "bootstrap resamples",
            message: "a token bootstrap needs a number of replicates above 0".into(),
        });
    }
    let family_seqs = crate::eval::family::LEDGER.sequences(&spec.checkpoints)?;
    let splice_seqs = crate::eval::sweep::LEDGER.sequences(path)?;
    let (mut family, fit) = job.fit(on)?;
    family
        .warnings
        .extend(crate::fit::bootstrap::few_runs(&fit));
    (family.warnings).extend(thin_resamples(&fit, spec.bootstrap, spec.seed));
    let paired = Paired::new(&fit, &family_seqs, &table, &splice_seqs)?;
    let (_, _, names) = units(&fit);
    let d = draws(spec.seed, spec.bootstrap, names.len(), paired.n_seq);
    let stage = Stage::begin(on, "token bootstrap", d.len());
    let j = joint(&fit, &paired, &d, spec.seed, &job.options().solver, &|| {
        stage.step()
    });
    let what = describe(&j.bootstrap, paired.n_seq, true);
    let mut law_file = job.law_file(&family, &fit, Some(&j.bootstrap))?;
    if let Some(b) = &mut law_file.bootstrap {
        b.tokens = Some(describe(&j.bootstrap, paired.n_seq, false));
    }
    crate::map::check_token_sets(&law_file, &table)?;
    Ok(map_joint(&law_file, table, &j.ces, &what))
}
