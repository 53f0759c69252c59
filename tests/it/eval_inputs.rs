//! `ceq eval` on bad or hostile inputs, each built in a temp folder from the good fixtures: memory is
//! bounded by the files (not by what a config declares), nothing panics, and no config key, cfg.json
//! field or tensor that would change the numbers is read and ignored. Each case fails with a non-zero
//! exit and a message naming the file and the key or tensor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

/// A copy of fixture folder `rel` in `dir`, under its own name.
fn copy(dir: &Path, rel: &str) -> PathBuf {
    let from = fixtures().join(rel);
    let to = dir.join(from.file_name().unwrap());
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    to
}

/// Edits the JSON file `name` of folder `dir` in place.
fn edit_json(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let p = dir.join(name);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(v.as_object_mut().unwrap());
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

type Tensors = BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>;

/// Rewrites a safetensors file after `edit` has changed its tensors.
fn edit_tensors(path: &Path, edit: impl FnOnce(&mut Tensors)) {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut t: Tensors = st
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, (v.dtype(), v.shape().to_vec(), v.data().to_vec())))
        .collect();
    edit(&mut t);
    let views: Vec<(String, TensorView)> = t
        .iter()
        .map(|(k, (d, s, b))| (k.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    std::fs::write(path, safetensors::serialize(views, None).unwrap()).unwrap();
}

/// Sets every f32 of tensor `key` to `value`.
fn fill(t: &mut Tensors, key: &str, value: f32) {
    let (dtype, _, bytes) = t.get_mut(key).unwrap();
    assert_eq!(*dtype, Dtype::F32);
    for c in bytes.chunks_exact_mut(4) {
        c.copy_from_slice(&value.to_le_bytes());
    }
}

/// Runs `ceq eval` on a model, an SAE and a token file; it must fail without panicking. Returns
/// stderr.
fn eval_fails(model: &Path, sae: &Path, tokens: &Path, extra: &[&str]) -> String {
    let out = crate::common::ceq()
        .arg("eval")
        .arg("--model")
        .arg(model)
        .arg("--sae")
        .arg(sae)
        .arg("--tokens")
        .arg(tokens)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "succeeded: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    err
}

fn tokens() -> PathBuf {
    fixtures().join("tokens.npy")
}

fn gpt2_sae() -> PathBuf {
    fixtures().join("saes/gpt2-l1-resid_pre-standard-v6")
}

fn neox_sae() -> PathBuf {
    fixtures().join("saes/neox-l1-resid_pre-standard-v6")
}

/// `want` are all in `err`.
fn says(err: &str, want: &[&str]) {
    for w in want {
        assert!(err.contains(w), "missing '{w}' in: {err}");
    }
}

/// A GPT-2 copy whose config.json got `key: value`; the error must name config.json and the key.
fn gpt2_with(key: &str, value: Value, want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_json(&m, "config.json", |c| {
        c.insert(key.into(), value);
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(&err, &[&m.join("config.json").display().to_string(), key]);
    says(&err, want);
}

fn neox_with(key: &str, value: Value, want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "neox");
    edit_json(&m, "config.json", |c| {
        c.insert(key.into(), value);
    });
    let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
    says(&err, &[&m.join("config.json").display().to_string(), key]);
    says(&err, want);
}

/// The resident memory the last child process reached, in KiB (Linux only; 0 elsewhere).
fn children_peak_kib() -> u64 {
    let mut usage = std::mem::MaybeUninit::<[i64; 18]>::zeroed();
    // getrusage(RUSAGE_CHILDREN): ru_maxrss is the 3rd field (after two timevals of 2 longs each).
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut [i64; 18]) -> i32;
    }
    if cfg!(target_os = "linux") && unsafe { getrusage(-1, usage.as_mut_ptr()) } == 0 {
        unsafe { usage.assume_init()[4] as u64 }
    } else {
        0
    }
}

#[test]
fn a_config_declaring_more_than_the_files_hold_fails_before_allocating() {
    // 100 000 layers of width 64 would be ~5 GB of zeros if missing weights stood in as zeros.
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_json(&m, "config.json", |c| {
        c.insert("n_layer".into(), json!(100_000));
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            "config.json's n_layer is 100000",
            "2 blocks, numbered 0 to 1",
        ],
    );
    says(&err, &[&m.display().to_string()]);
    // Any child so far is a small eval: far below what the declared layers would take.
    let peak = children_peak_kib();
    assert!(peak < 2_000_000, "peak {peak} KiB");

    // NeoX, counted by num_hidden_layers; and a missing middle block.
    let m = copy(dir.path(), "neox");
    edit_json(&m, "config.json", |c| {
        c.insert("num_hidden_layers".into(), json!(3));
    });
    let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
    says(
        &err,
        &["config.json's num_hidden_layers is 3", "gpt_neox.layers."],
    );

    // A declared width, vocabulary or MLP size the tensors do not have names the tensor and shape
    // (nothing of the declared size is made).
    for (key, value, tensor) in [
        (
            "vocab_size",
            json!(1_000_000_000_000u64),
            "transformer.wte.weight",
        ),
        (
            "n_inner",
            json!(1_000_000_000_000u64),
            "transformer.h.0.mlp.c_fc.weight",
        ),
        (
            "n_positions",
            json!(1_000_000_000_000u64),
            "transformer.wpe.weight",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        let m = copy(d.path(), "gpt2");
        edit_json(&m, "config.json", |c| {
            c.insert(key.into(), value);
        });
        let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
        says(&err, &[tensor, "expected", "from config.json"]);
    }
    // 4 × n_embd overflowing, and n_inner 0.
    gpt2_with("n_embd", json!(u64::MAX / 2), &["too large"]);
    gpt2_with("n_inner", json!(0), &["positive"]);
}

#[test]
fn a_missing_weight_is_named_never_zero_filled() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_tensors(&m.join("model.safetensors"), |t| {
        t.remove("transformer.ln_f.weight");
        t.remove("transformer.h.1.attn.c_attn.bias");
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            "missing weights:",
            "transformer.h.1.attn.c_attn.bias",
            "transformer.ln_f.weight",
        ],
    );
    // Every layer of a block gone: the layer count check names it.
    let m2 = copy(&dir.path().join("b"), "gpt2");
    edit_tensors(&m2.join("model.safetensors"), |t| {
        t.retain(|k, _| !k.starts_with("transformer.h.1."));
    });
    let err = eval_fails(&m2, &gpt2_sae(), &tokens(), &[]);
    says(&err, &["n_layer is 2", "1 blocks, numbered 0 to 0"]);
}

#[test]
fn non_finite_weights_are_named_by_tensor_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    let file = m.join("model.safetensors");
    edit_tensors(&file, |t| fill(t, "transformer.h.0.ln_1.weight", f32::NAN));
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            &file.display().to_string(),
            "transformer.h.0.ln_1.weight",
            "NaN",
            "finite",
        ],
    );
    let s = copy(dir.path(), "saes/gpt2-l1-resid_pre-standard-v6");
    let file = s.join("sae_weights.safetensors");
    edit_tensors(&file, |t| fill(t, "b_dec", f32::INFINITY));
    let err = eval_fails(&fixtures().join("gpt2"), &s, &tokens(), &[]);
    says(&err, &[&file.display().to_string(), "'b_dec'", "inf"]);
}

#[test]
fn activations_that_overflow_are_an_error_not_nan() {
    let dir = tempfile::tempdir().unwrap();
    // Finite weights whose logits overflow f32: the model is named.
    let m = copy(dir.path(), "gpt2");
    edit_tensors(&m.join("model.safetensors"), |t| {
        fill(t, "transformer.ln_f.weight", 3e38)
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            &m.display().to_string(),
            "ce_clean is not finite",
            "the model's own logits",
        ],
    );
    // An SAE whose reconstruction overflows: the SAE is named.
    let s = copy(dir.path(), "saes/gpt2-l1-resid_pre-standard-v6");
    edit_tensors(&s.join("sae_weights.safetensors"), |t| {
        fill(t, "b_dec", 3e38)
    });
    let err = eval_fails(&fixtures().join("gpt2"), &s, &tokens(), &[]);
    says(
        &err,
        &[
            &s.display().to_string(),
            "is not finite",
            "the SAE's reconstruction",
        ],
    );
    // In a sweep, the SAE's overflow names its manifest row; the model's names the model, not the
    // first row on it, which every row on that host shares (helper-99).
    let sweep = |rows: &str| {
        let manifest = dir.path().join("m.csv");
        std::fs::write(&manifest, format!("name,model,sae\n{rows}")).unwrap();
        let out = crate::common::ceq()
            .args(["eval", "--manifest"])
            .arg(&manifest)
            .arg("--tokens")
            .arg(tokens())
            .arg("--out")
            .arg(dir.path().join("o.csv"))
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success() && !err.contains("panicked"), "{err}");
        (manifest.display().to_string(), err)
    };
    let (good, sae) = (fixtures().join("gpt2"), gpt2_sae());
    let (manifest, err) = sweep(&format!(
        "a,{},{}\nb,{},{}\n",
        good.display(),
        sae.display(),
        good.display(),
        s.display()
    ));
    says(
        &err,
        &[&format!("{manifest}:3: 'b': "), "the SAE's reconstruction"],
    );
    let (manifest, err) = sweep(&format!("a,{},{}\n", m.display(), sae.display()));
    says(&err, &[&m.display().to_string(), "ce_clean is not finite"]);
    assert!(!err.contains(&format!("{manifest}:")), "{err}");
}

#[test]
fn gpt2_config_keys_that_change_the_forward_pass_are_refused() {
    gpt2_with(
        "scale_attn_by_inverse_layer_idx",
        json!(true),
        &["false only"],
    );
    gpt2_with("scale_attn_weights", json!(false), &["true only"]);
    gpt2_with("tie_word_embeddings", json!(false), &["true only"]);
    gpt2_with("add_cross_attention", json!(true), &["false only"]);
    gpt2_with("activation_function", json!("relu"), &["activation 'relu'"]);
    gpt2_with("layer_norm_epsilon", json!(-1.0), &["finite number"]);
    gpt2_with("pruned_heads", json!({"0": [1]}), &["{} only"]);
    // A BOS or EOS no token can be would leave the model's own BOS scored (helper-91: n_tokens
    // 240, not 232, exit 0).
    gpt2_with(
        "bos_token_id",
        json!(500),
        &[
            "bos_token_id",
            "500 is no token of this model, whose vocabulary has 96 ids",
        ],
    );
    gpt2_with(
        "eos_token_id",
        json!([0, 96]),
        &["eos_token_id", "96 is no token"],
    );
    // A value of the wrong type is named by its key, not by a column of a one-line file alone.
    gpt2_with(
        "pad_token_id",
        json!(-1),
        &["key 'pad_token_id'", "expected u32"],
    );
    gpt2_with(
        "layer_norm_epsilon",
        json!("1e-5"),
        &["key 'layer_norm_epsilon'"],
    );
    // A missing key names itself, not the key before the object's end (helper-93).
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_json(&m, "config.json", |c| drop(c.remove("n_embd")));
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(&err, &["missing field `n_embd`"]);
    assert!(!err.contains("key '"), "{err}");
    // A key ceq does not know is refused, not ignored.
    gpt2_with(
        "attn_logit_softcapping",
        json!(30.0),
        &["does not know this key"],
    );
    // Harmless keys at any value still load: the dropouts, reorder_and_upcast_attn, OpenAI GPT's
    // special-token settings.
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_json(&m, "config.json", |c| {
        c.insert("resid_pdrop".into(), json!(0.3));
        c.insert("reorder_and_upcast_attn".into(), json!(true));
        c.insert("_name_or_path".into(), json!("somewhere"));
        // gpt2-medium's and distilgpt2's configs carry these; GPT2LMHeadModel reads none.
        c.insert("n_special".into(), json!(0));
        c.insert("predict_special_tokens".into(), json!(true));
        c.insert("_num_labels".into(), json!(1));
    });
    crate::common::ceq()
        .arg("eval")
        .arg("--model")
        .arg(&m)
        .arg("--sae")
        .arg(gpt2_sae())
        .arg("--tokens")
        .arg(tokens())
        .assert()
        .success();
}

#[test]
fn neox_config_keys_that_change_the_forward_pass_are_refused() {
    neox_with("hidden_act", json!("relu"), &["activation 'relu'"]);
    neox_with(
        "rope_scaling",
        json!({"type": "linear", "factor": 2.0}),
        &["null only"],
    );
    neox_with("attention_bias", json!(false), &["true only"]);
    neox_with(
        "rope_parameters",
        json!({"rope_type": "linear"}),
        &["rope_type 'linear'"],
    );
    neox_with(
        "rope_parameters",
        json!({"factor": 2.0}),
        &["field 'factor'"],
    );
    neox_with("rotary_pct", json!(1.5), &["between 0 and 1"]);
    // 1/16 of 16-dimension heads: one rotated dimension, which the half split cannot pair.
    neox_with("rotary_pct", json!(0.0625), &["odd"]);
    neox_with("rotary_emb_base", json!(0.0), &["positive"]);
    neox_with("layer_norm_eps", json!(-1.0), &["finite number"]);
    neox_with("use_qk_norm", json!(true), &["does not know this key"]);
}

/// The row `ceq eval --format csv` writes for one model and one SAE, column by column.
fn eval_row(model: &Path, sae: &Path) -> BTreeMap<String, String> {
    let out = crate::common::ceq()
        .arg("eval")
        .arg("--model")
        .arg(model)
        .arg("--sae")
        .arg(sae)
        .arg("--tokens")
        .arg(tokens())
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let head = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    head.iter()
        .zip(&row)
        .map(|(h, v)| (h.to_owned(), v.to_owned()))
        .collect()
}

/// An activation that does not vary (GPT-2's attention output with its projection zeroed: the
/// bias alone) has no variance to explain: explained_variance is empty, as SAEBench's per-batch
/// form is, not a ratio of rounding errors (review: −2840386.2).
#[test]
fn an_activation_that_does_not_vary_has_no_explained_variance() {
    let d = tempfile::tempdir().unwrap();
    let model = copy(d.path(), "gpt2");
    edit_tensors(&model.join("model.safetensors"), |t| {
        let key = t
            .keys()
            .find(|k| k.ends_with("h.0.attn.c_proj.weight"))
            .unwrap()
            .clone();
        fill(t, &key, 0.0);
    });
    let sae = fixtures().join("saes/gpt2-l0-attn_out-gated-v6");
    let row = eval_row(&model, &sae);
    assert_eq!(row["explained_variance"], "", "{row:?}");
    assert_eq!(row["explained_variance_legacy"], "", "{row:?}");
    assert!(row["ce_spliced"].parse::<f64>().unwrap().is_finite());
    // The fixture as it is varies there, and gets a number.
    let row = eval_row(&fixtures().join("gpt2"), &sae);
    assert!(
        row["explained_variance"]
            .parse::<f64>()
            .unwrap()
            .is_finite(),
        "{row:?}"
    );
}

fn neox_ce_clean(model: &Path) -> String {
    eval_row(model, &neox_sae())["ce_clean"].clone()
}

/// An SAE trained on a host loaded with TransformerLens's `center_writing_weights` (SAELens's
/// `model_from_pretrained_kwargs`) sees the stream less its mean over d_model. The fixture GPT-2's
/// position embeddings are shifted by 3 along (1, …, 1) first: the logits do not change (every
/// LayerNorm removes it) but the raw stream then has a large mean, which a centred host has not.
/// center_reference.py splices the SAE into the centred model in PyTorch.
#[test]
fn an_sae_of_a_host_with_centred_writing_weights_sees_centred_activations() {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("center_reference.json")).unwrap(),
    )
    .unwrap();
    let want = |k: &str| reference[k].as_f64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_tensors(&m.join("model.safetensors"), |t| {
        let (_, _, bytes) = t.get_mut("transformer.wpe.weight").unwrap();
        for c in bytes.chunks_exact_mut(4) {
            let v = f32::from_le_bytes(c.try_into().unwrap()) + 3.0;
            c.copy_from_slice(&v.to_le_bytes());
        }
    });
    let s = copy(dir.path(), "saes/gpt2-l1-resid_pre-standard-v6");
    let num = |row: &BTreeMap<String, String>, k: &str| row[k].parse::<f64>().unwrap();
    let raw = eval_row(&m, &s);
    edit_json(&s, "cfg.json", |c| {
        let meta = c.get_mut("metadata").unwrap().as_object_mut().unwrap();
        let kwargs = json!({"center_writing_weights": true, "fold_ln": true});
        meta.insert("model_from_pretrained_kwargs".into(), kwargs);
    });
    let centred = eval_row(&m, &s);
    for row in [&raw, &centred] {
        assert!((num(row, "ce_clean") - want("ce_clean")).abs() < 1e-5);
    }
    assert!((num(&centred, "ce_spliced") - want("ce_spliced")).abs() < 2e-4);
    assert!((num(&centred, "l0") - want("l0")).abs() < 1e-3);
    let ev = num(&centred, "explained_variance");
    assert!((ev - want("explained_variance")).abs() < 1e-4, "{ev}");
    // Uncentred, the same SAE reads another stream: the test can tell the two apart.
    assert!((num(&raw, "ce_spliced") - want("ce_spliced")).abs() > 0.05);
    // An option ceq cannot reproduce is named, not ignored.
    edit_json(&s, "cfg.json", |c| {
        let meta = c.get_mut("metadata").unwrap().as_object_mut().unwrap();
        meta.insert(
            "model_from_pretrained_kwargs".into(),
            json!({"first_n_layers": 1}),
        );
    });
    let err = eval_fails(&m, &s, &tokens(), &[]);
    says(
        &err,
        &[
            "model_from_pretrained_kwargs",
            "'first_n_layers'",
            "Measure this SAE with SAELens",
        ],
    );
}

/// SAELens 3.9-4.3 wrote TopK SAEs as `architecture: standard` with `activation_fn_str: topk` and
/// its k; SAELens 6 reads them as TopK, and so does ceq: the same numbers as the SAE saved as topk.
#[test]
fn a_pre_6_topk_saved_as_standard_is_a_topk_sae() {
    let dir = tempfile::tempdir().unwrap();
    let s = copy(dir.path(), "saes/gpt2-l1-mlp_out-topk-v5_flat");
    let gpt2 = fixtures().join("gpt2");
    let topk = eval_row(&gpt2, &s);
    edit_json(&s, "cfg.json", |c| {
        c.insert("architecture".into(), json!("standard"));
    });
    let standard = eval_row(&gpt2, &s);
    assert_eq!(standard["architecture"], "topk");
    for k in ["ce_spliced", "l0", "mse", "kl"] {
        assert_eq!(standard[k], topk[k], "{k}");
    }
    assert!(topk["l0"].parse::<f64>().unwrap() <= 8.0);
}

/// A NeoX config.json without a rotary fraction rotates a quarter of each head, as transformers'
/// GPTNeoXConfig does (`partial_rotary_factor` defaults to `rotary_pct`, else 0.25); keys that
/// disagree are refused.
#[test]
fn a_neox_rotary_fraction_defaults_as_transformers_does() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "neox");
    let fixture = neox_ce_clean(&m); // the fixture says rotary_pct 0.25
    edit_json(&m, "config.json", |c| {
        c.remove("rotary_pct");
    });
    assert_eq!(neox_ce_clean(&m), fixture);
    edit_json(&m, "config.json", |c| {
        c.insert(
            "rope_parameters".into(),
            json!({"partial_rotary_factor": 0.5}),
        );
    });
    assert_ne!(
        neox_ce_clean(&m),
        fixture,
        "the fraction changes the logits"
    );
    edit_json(&m, "config.json", |c| {
        c.insert("rotary_pct".into(), json!(0.25));
    });
    let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            "rotary_pct",
            "0.25 disagrees with",
            "partial_rotary_factor = 0.5",
        ],
    );
}

/// A NeoX config.json's rotary base is read as transformers reads it (rope_parameters' theta, else
/// rotary_emb_base, else 10000; a top-level rope_theta never): keys that disagree with the one
/// read are refused rather than read another way (review 11c: rotary_emb_base 10 beside
/// rope_parameters' 10000 gave ce_clean 3.72 where transformers gives 1.55).
#[test]
fn a_neox_rotary_base_is_read_as_transformers_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "neox");
    let fixture = neox_ce_clean(&m);
    // The same base spelled each way: the same numbers.
    for (k, v) in [
        ("rotary_emb_base", json!(10000)),
        ("rope_parameters", json!({"rope_theta": 10000.0})),
        ("rope_theta", json!(10000.0)),
    ] {
        edit_json(&m, "config.json", |c| {
            c.insert(k.into(), v);
        });
        assert_eq!(neox_ce_clean(&m), fixture, "{k}");
    }
    for (k, v, want) in [
        (
            "rotary_emb_base",
            json!(10),
            "rope_parameters.rope_theta = 10000",
        ),
        (
            "rope_theta",
            json!(10),
            "rope_parameters.rope_theta = 10000",
        ),
    ] {
        edit_json(&m, "config.json", |c| {
            c.insert(k.into(), v);
        });
        let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
        says(&err, &[k, "10 disagrees with", want]);
        edit_json(&m, "config.json", |c| {
            c.insert(k.into(), json!(10000));
        });
    }
    // Only a top-level rope_theta, which transformers does not read: refused unless 10000.
    edit_json(&m, "config.json", |c| {
        c.remove("rotary_emb_base");
        c.remove("rope_parameters");
        c.insert("rope_theta".into(), json!(10));
    });
    let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
    says(&err, &["rope_theta", "transformers' default = 10000"]);
    // A base of its own changes the logits (the check can fail).
    edit_json(&m, "config.json", |c| {
        c.remove("rope_theta");
        c.insert("rotary_emb_base".into(), json!(10));
    });
    assert_ne!(neox_ce_clean(&m), fixture);
}

/// A tied head saved beside the embedding: read as the embedding where the two are equal (the
/// same numbers as the untied model with that head), refused where they differ, since
/// transformers 5 then unties the head and uses the copy while older versions use the embedding
/// (review 11c: ceq refused every NeoX copy, and took GPT-2's and Llama's as the embedding
/// unchecked).
#[test]
fn a_saved_copy_of_a_tied_head_must_equal_the_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "neox");
    edit_json(&m, "config.json", |c| {
        c.insert("tie_word_embeddings".into(), json!(true));
    });
    let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            "embed_out.weight",
            "differs from gpt_neox.embed_in.weight",
            "tie_word_embeddings",
        ],
    );
    // The head made equal to the embedding: tied and untied read alike.
    edit_tensors(&m.join("model.safetensors"), |t| {
        let embed = t["gpt_neox.embed_in.weight"].clone();
        t.insert("embed_out.weight".into(), embed);
    });
    let tied = neox_ce_clean(&m);
    edit_json(&m, "config.json", |c| {
        c.insert("tie_word_embeddings".into(), json!(false));
    });
    assert_eq!(tied, neox_ce_clean(&m));
    // And the tied copy is no parameter of its own: the tied model counts one matrix fewer.
    let params = |tie: bool| {
        edit_json(&m, "config.json", |c| {
            c.insert("tie_word_embeddings".into(), json!(tie));
        });
        eval_row(&m, &neox_sae())["params_total"]
            .parse::<f64>()
            .unwrap()
    };
    let (vocab, d) = (96.0, 64.0);
    assert_eq!(params(false) - params(true), vocab * d);
}

/// An SAE copy whose cfg.json got `key: value` (in `metadata` when `meta`).
fn sae_with(rel: &str, meta: bool, key: &str, value: Value, want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let s = copy(dir.path(), rel);
    edit_json(&s, "cfg.json", |c| {
        let c = if meta {
            c.get_mut("metadata").unwrap().as_object_mut().unwrap()
        } else {
            c
        };
        c.insert(key.into(), value);
    });
    let model = if rel.contains("neox") { "neox" } else { "gpt2" };
    let err = eval_fails(&fixtures().join(model), &s, &tokens(), &[]);
    says(&err, &[&s.join("cfg.json").display().to_string(), key]);
    says(&err, want);
}

#[test]
fn sae_fields_and_tensors_read_and_ignored_are_refused() {
    let std6 = "saes/gpt2-l1-resid_pre-standard-v6";
    sae_with(std6, true, "hook_head_index", json!(3), &["null only"]);
    sae_with(
        std6,
        false,
        "reshape_activations",
        json!("hook_z"),
        &["\"none\" only"],
    );
    sae_with(
        std6,
        false,
        "activation_fn",
        json!("tanh-relu"),
        &["not supported"],
    );
    sae_with(
        std6,
        false,
        "rescale_acts_by_decoder_norm",
        json!(true),
        &["only a topk SAE"],
    );
    sae_with(
        "saes/gpt2-l1-mlp_out-topk-v5_flat",
        false,
        "finetuning_scaling_factor",
        json!(true),
        &["false only"],
    );
    sae_with(
        "saes/gpt2-l0-resid_mid-standard-v2_flat",
        false,
        "hook_point_head_index",
        json!(0),
        &["null only"],
    );
    // TopK with k above d_sae (used to panic in top-k).
    sae_with(
        "saes/gpt2-l0-resid_mid-topk-v6",
        false,
        "k",
        json!(1000),
        &["more latents than"],
    );
    sae_with(
        "saes/gpt2-l1-mlp_out-topk-v5_flat",
        false,
        "activation_fn_kwargs",
        json!({"k": 129}),
        &["d_sae 128"],
    );

    // A tensor the SAE's kind does not use: a threshold on a standard SAE, b_enc on a gated one.
    let dir = tempfile::tempdir().unwrap();
    for (rel, extra) in [
        (std6, "threshold"),
        ("saes/gpt2-l0-attn_out-gated-v6", "b_enc"),
    ] {
        let s = copy(dir.path(), rel);
        let file = s.join("sae_weights.safetensors");
        edit_tensors(&file, |t| {
            let b_dec = t["b_dec"].clone();
            t.insert(
                extra.into(),
                (b_dec.0, vec![128], [b_dec.2.clone(), b_dec.2].concat()),
            );
        });
        let err = eval_fails(&fixtures().join("gpt2"), &s, &tokens(), &[]);
        says(
            &err,
            &[
                &file.display().to_string(),
                &format!("unused weights: {extra}"),
            ],
        );
    }
}

/// A .npy of `descr` with the given shape text and `body` bytes after the header.
fn npy(path: &Path, descr: &str, shape: &str, body: &[u8]) {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(body);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn token_files_whose_header_declares_more_than_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let gpt2 = fixtures().join("gpt2");
    let t = dir.path().join("t.npy");
    for (shape, want) in [
        // The product overflows u64 (it used to panic with a capacity overflow).
        (
            "(4294967296, 4294967296)",
            "more elements than a 64-bit count",
        ),
        (
            "(1000000000, 64)",
            "512000000000 bytes of ids, but 64 bytes follow it",
        ),
        // Too short for its header, or longer (the trailing ids were read as nothing).
        ("(3, 3)", "72 bytes of ids, but 64 bytes follow it"),
        ("(1, 4)", "32 bytes of ids, but 64 bytes follow it"),
        ("(0, 8)", "holds no tokens"),
        ("(8, 0)", "holds no tokens"),
    ] {
        npy(&t, "<i8", shape, &[0u8; 64]);
        let err = eval_fails(&gpt2, &gpt2_sae(), &t, &[]);
        says(&err, &[&t.display().to_string(), want]);
    }
}

#[test]
fn no_scored_position_is_an_error_not_nan() {
    // Every position but the last holds a special token (BOS 0, EOS 1, pad 2 in the fixture).
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("special.npy");
    let ids: Vec<u8> = [0i64, 1, 2, 0, 1, 2, 0, 5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    npy(&t, "<i8", "(1, 8)", &ids);
    let err = eval_fails(&fixtures().join("gpt2"), &gpt2_sae(), &t, &[]);
    says(
        &err,
        &[
            &t.display().to_string(),
            "no position is scored",
            "[0, 1, 2]",
        ],
    );
    // Kept, the same tokens evaluate.
    crate::common::ceq()
        .arg("eval")
        .arg("--model")
        .arg(fixtures().join("gpt2"))
        .arg("--sae")
        .arg(gpt2_sae())
        .arg("--tokens")
        .arg(&t)
        .arg("--keep-special")
        .assert()
        .success();
}

#[test]
fn shards_are_plain_files_holding_each_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "neox_sharded_bf16");
    let index = "model.safetensors.index.json";
    // A key in two shards.
    let first = m.join("model-00001-of-00003.safetensors");
    let second = m.join("model-00002-of-00003.safetensors");
    let mut stolen = None;
    edit_tensors(&first, |t| {
        let (k, v) = t.iter().next().unwrap();
        stolen = Some((k.clone(), v.clone()));
    });
    let (key, value) = stolen.unwrap();
    edit_tensors(&second, |t| {
        t.insert(key.clone(), value);
    });
    let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
    says(&err, &[&key, "another shard", "model-0000"]);
    // A shard named by an absolute path or through a folder.
    for name in ["/etc/hostname", "sub/x.safetensors", "..", ""] {
        let m = copy(
            &dir.path().join(format!("n{}", name.len())),
            "neox_sharded_bf16",
        );
        edit_json(&m, index, |c| {
            let map = c["weight_map"].as_object_mut().unwrap();
            let k = map.keys().next().unwrap().clone();
            map.insert(k, json!(name));
        });
        let err = eval_fails(&m, &neox_sae(), &tokens(), &[]);
        says(&err, &[index, "weight_map", "same folder"]);
    }
}

#[test]
fn a_text_row_length_below_two_is_refused_before_tokenizing() {
    // With a BOS, ctx 0 used to underflow ctx − 1 (a panic in a checked build).
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokenizer");
    for ctx in ["0", "1"] {
        let out = crate::common::ceq()
            .arg("eval")
            .arg("--model")
            .arg(fixtures().join("gpt2"))
            .arg("--sae")
            .arg(gpt2_sae())
            .arg("--text")
            .arg(t.join("text.txt"))
            .arg("--tokenizer")
            .arg(t.join("tokenizer.json"))
            .args(["--ctx", ctx])
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!out.status.success() && !err.contains("panicked"), "{err}");
        says(&err, &["at least 2", "ctx"]);
    }
}

/// SAELens's gpt2-small releases trained on centred writing weights lack the option in their Hub
/// cfg.json: an SAE of GPT-2 small that does not say how its host was loaded is warned of (the
/// number may be wrong), and one that says so is not.
#[test]
fn a_gpt2_small_sae_silent_on_centring_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let s = copy(dir.path(), "saes/gpt2-l1-resid_pre-standard-v6");
    let gpt2 = fixtures().join("gpt2");
    let stderr = || {
        let (_, err) = crate::common::succeeds(
            crate::common::ceq()
                .args(["eval", "--model"])
                .arg(&gpt2)
                .arg("--sae")
                .arg(&s)
                .arg("--tokens")
                .arg(tokens()),
        );
        err
    };
    // As on the Hub: no model_from_pretrained_kwargs at all (the fixture has SAELens 6's `{}`).
    let quiet = stderr();
    assert!(!quiet.contains("warning"), "{quiet}");
    edit_json(&s, "cfg.json", |c| {
        let meta = c.get_mut("metadata").unwrap().as_object_mut().unwrap();
        meta.remove("model_from_pretrained_kwargs").unwrap();
    });
    let warned = stderr();
    says(
        &warned,
        &[
            "warning",
            "cfg.json names gpt2-small",
            "center_writing_weights",
        ],
    );
    for kwargs in [json!({}), json!({"center_writing_weights": true})] {
        edit_json(&s, "cfg.json", |c| {
            let meta = c.get_mut("metadata").unwrap().as_object_mut().unwrap();
            meta.insert("model_from_pretrained_kwargs".into(), kwargs.clone());
        });
        let err = stderr();
        assert!(!err.contains("warning"), "{kwargs}: {err}");
    }
}

#[test]
fn a_topk_k_that_is_not_a_whole_number_above_0_is_said_so() {
    let topk = "saes/gpt2-l0-resid_mid-topk-v6";
    for k in [json!(0), json!(-1), json!(8.5), json!("8")] {
        let want = format!("k is {k}; it must be a whole number ≥ 1");
        sae_with(topk, false, "k", k, &[&want]);
    }
}

/// A JSON file with a UTF-8 byte-order mark (as some Windows editors save it) reads as without
/// one, as the CSV readers take a CSV.
#[test]
fn config_and_cfg_json_with_a_byte_order_mark_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    let s = copy(dir.path(), "saes/gpt2-l1-resid_pre-standard-v6");
    for p in [m.join("config.json"), s.join("cfg.json")] {
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, format!("\u{feff}{text}")).unwrap();
    }
    let with_bom = eval_row(&m, &s);
    let without = eval_row(&fixtures().join("gpt2"), &gpt2_sae());
    for col in ["ce_clean", "ce_spliced", "ce_zero_ablation"] {
        assert_eq!(with_bom[col], without[col], "{col}");
    }
}

#[test]
fn a_text_of_one_token_is_said_in_the_singular() {
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokenizer");
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("one.txt");
    std::fs::write(&text, "law").unwrap();
    let out = crate::common::ceq()
        .arg("eval")
        .arg("--model")
        .arg(fixtures().join("gpt2"))
        .arg("--sae")
        .arg(gpt2_sae())
        .arg("--text")
        .arg(&text)
        .arg("--tokenizer")
        .arg(t.join("tokenizer.json"))
        .args(["--ctx", "8"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    says(&err, &["only 1 token:"]);
}

/// One host evaluated alone can carry its training tokens (`--trained-tokens`), so its splices
/// file gives `ceq map` the host's actual compute; a count below 1 is refused.
#[test]
fn a_single_eval_records_the_hosts_training_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let gpt2 = fixtures().join("gpt2");
    let sae = fixtures().join("saes/gpt2-l1-resid_pre-standard-v6");
    let out = dir.path().join("s.csv");
    crate::common::succeeds(
        crate::common::ceq()
            .args(["eval", "--trained-tokens", "2e6", "--model"])
            .arg(&gpt2)
            .arg("--sae")
            .arg(&sae)
            .arg("--tokens")
            .arg(tokens())
            .arg("--out")
            .arg(&out),
    );
    let mut r = csv::Reader::from_path(&out).unwrap();
    let head = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let cell = |k: &str| row[head.iter().position(|h| h == k).unwrap()].to_owned();
    assert_eq!(cell("tokens"), "2000000");
    let params: f64 = cell("params").parse().unwrap();
    assert!(params > 0.0);
    let err = eval_fails(&gpt2, &sae, &tokens(), &["--trained-tokens", "0.5"]);
    says(&err, &["training tokens, 0.5, must be a whole count ≥ 1"]);
}

/// A config.json whose `model_type` and `architectures` name two different supported models is
/// refused; a class ceq does not know beside a known model_type (GPT2Model, the headless GPT-2 whose
/// unprefixed weights ceq reads) is not.
#[test]
fn a_config_naming_two_models_is_refused() {
    neox_with(
        "model_type",
        json!("gpt2"),
        &[
            "'gpt2' is GPT2LMHeadModel's",
            "names GPTNeoXForCausalLM",
            "two models",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let m = copy(dir.path(), "gpt2");
    edit_json(&m, "config.json", |c| {
        c.insert("architectures".into(), json!(["GPT2Model"]));
    });
    eval_row(&m, &gpt2_sae());
}

/// Rewrites the JSON header of a safetensors file with `edit`, keeping its data bytes as they are.
fn edit_header(path: &Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(header.as_object_mut().unwrap());
    let mut h = serde_json::to_vec(&header).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(&bytes[8 + n..]);
    std::fs::write(path, out).unwrap();
}

/// Every safetensors defect ceq finds in a tensor names the file (not only its folder), the tensor's
/// key and what was expected: a wrong dtype, a shape other than the config's, a header whose shape
/// does not fit its byte range, and a file cut short.
#[test]
fn safetensors_errors_name_the_file_and_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let model = |sub: &str| copy(&dir.path().join(sub), "gpt2");
    let sae = |sub: &str| copy(&dir.path().join(sub), "saes/gpt2-l1-resid_pre-standard-v6");
    let ln_f = "transformer.ln_f.weight";
    let c_attn = "transformer.h.0.attn.c_attn.weight";
    let file = |d: &Path, n: &str| d.join(n).display().to_string();

    // A dtype ceq does not read (the same bytes as i32).
    let m = model("dtype");
    edit_tensors(&m.join("model.safetensors"), |t| {
        t.get_mut(ln_f).unwrap().0 = Dtype::I32
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            &file(&m, "model.safetensors"),
            ln_f,
            "I32",
            "f32, f16 and bf16",
        ],
    );
    let s = sae("sae_dtype");
    edit_tensors(&s.join("sae_weights.safetensors"), |t| {
        t.get_mut("b_dec").unwrap().0 = Dtype::I32
    });
    let err = eval_fails(&fixtures().join("gpt2"), &s, &tokens(), &[]);
    says(
        &err,
        &[
            &file(&s, "sae_weights.safetensors"),
            "'b_dec'",
            "I32",
            "f32",
        ],
    );

    // A shape other than the config's: the file holding it is named, not only the model folder.
    let m = model("shape");
    edit_tensors(&m.join("model.safetensors"), |t| {
        t.get_mut(c_attn).unwrap().1.reverse()
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            &format!("{}: tensor '{c_attn}'", file(&m, "model.safetensors")),
            "shape [192, 64], expected [64, 192] from config.json",
        ],
    );
    let s = sae("sae_shape");
    edit_tensors(&s.join("sae_weights.safetensors"), |t| {
        t.get_mut("W_enc").unwrap().1.reverse()
    });
    let err = eval_fails(&fixtures().join("gpt2"), &s, &tokens(), &[]);
    says(
        &err,
        &[
            &file(&s, "sae_weights.safetensors"),
            "'W_enc'",
            "expected [64, 128] from cfg.json",
        ],
    );

    // A header whose shape needs other bytes than its data_offsets hold (4 f32 = 16 bytes).
    let m = model("header");
    let mut range = (0, 0);
    edit_header(&m.join("model.safetensors"), |h| {
        let o = &h[ln_f]["data_offsets"];
        range = (o[0].as_u64().unwrap(), o[1].as_u64().unwrap());
        h[ln_f]["shape"] = json!([4]);
    });
    let err = eval_fails(&m, &gpt2_sae(), &tokens(), &[]);
    says(
        &err,
        &[
            &file(&m, "model.safetensors"),
            ln_f,
            "shape [4] of dtype F32 needs 16 bytes",
            &format!("[{}, {}] hold {}", range.0, range.1, range.1 - range.0),
        ],
    );

    // A file cut short: the tensor whose data are not all there (the last in the file) is named.
    for (d, name) in [
        (model("cut"), "model.safetensors"),
        (sae("sae_cut"), "sae_weights.safetensors"),
    ] {
        let p = d.join(name);
        let bytes = std::fs::read(&p).unwrap();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let last = (st.tensors().into_iter())
            .max_by_key(|(_, v)| v.data().as_ptr() as usize)
            .unwrap()
            .0;
        std::fs::write(&p, &bytes[..bytes.len() - 10]).unwrap();
        let err = if name == "model.safetensors" {
            eval_fails(&d, &gpt2_sae(), &tokens(), &[])
        } else {
            eval_fails(&fixtures().join("gpt2"), &d, &tokens(), &[])
        };
        says(
            &err,
            &[
                &format!("{}: tensor '{last}'", p.display()),
                "past the end of the file",
                "truncated",
            ],
        );
    }
}

/// An `--sae` that is no SAE folder says what one holds, for a path that does not exist and for a
/// folder without cfg.json.
#[test]
fn an_sae_path_that_is_no_sae_folder_says_what_one_holds() {
    let gpt2 = fixtures().join("gpt2");
    let holds = "an SAE is a folder holding cfg.json and sae_weights.safetensors";
    let err = eval_fails(&gpt2, Path::new("nope"), &tokens(), &[]);
    says(&err, &["nope", "no such folder", holds]);
    let empty = tempfile::tempdir().unwrap();
    let err = eval_fails(&gpt2, empty.path(), &tokens(), &[]);
    says(&err, &["the folder has no cfg.json", holds]);
}

/// Older transformers saved the causal mask as a u8 or bool buffer (`attention.bias`, GPT-2's
/// `attn.bias`) beside an f32 `masked_bias`; such a checkpoint loads and measures as the same
/// model without them (review: the u8 buffer was refused as a weight of the wrong dtype).
#[test]
fn causal_mask_buffers_of_any_dtype_are_not_weights() {
    let dir = tempfile::tempdir().unwrap();
    let mask: Vec<u8> = (0..64 * 64).map(|i| u8::from(i % 64 <= i / 64)).collect();
    for (host, layer, sae) in [
        ("neox", "gpt_neox.layers.{l}.attention", neox_sae()),
        ("gpt2", "transformer.h.{l}.attn", gpt2_sae()),
    ] {
        for dtype in [Dtype::U8, Dtype::BOOL] {
            let m = copy(&dir.path().join(format!("{host}-{dtype:?}")), host);
            edit_tensors(&m.join("model.safetensors"), |t| {
                for l in 0..2 {
                    let key = layer.replace("{l}", &l.to_string());
                    let shape = vec![1, 1, 64, 64];
                    t.insert(format!("{key}.bias"), (dtype, shape, mask.clone()));
                    let masked = (Dtype::F32, vec![], (-1e9f32).to_le_bytes().to_vec());
                    t.insert(format!("{key}.masked_bias"), masked);
                }
            });
            let (got, want) = (eval_row(&m, &sae), eval_row(&fixtures().join(host), &sae));
            assert_eq!(got["ce_clean"], want["ce_clean"], "{host} {dtype:?}");
            assert_eq!(got["ce_spliced"], want["ce_spliced"], "{host} {dtype:?}");
        }
    }
}

/// An SAE's activation_scaler.json is read whole: a whitening or another scaler's key would be a
/// transform of the input ceq does not apply (helper-91: has_whitening true gave the numbers of the
/// plain scaler, exit 0), and a scaling factor that is no scale is said as such (was "has no
/// scaling_factor").
#[test]
fn an_activation_scaler_ceq_would_not_apply_is_refused() {
    let edits: [(&str, Value, &[&str]); 4] = [
        (
            "has_whitening",
            json!(true),
            &["'has_whitening'", "is true", "does not apply"],
        ),
        (
            "whitening_matrix",
            json!([1.0]),
            &["'whitening_matrix'", "does not apply"],
        ),
        (
            "scaling_factor",
            json!(0.0),
            &[
                "'scaling_factor'",
                "is 0.0; the input's scale is a number > 0",
            ],
        ),
        ("scaling_factor", json!(-2.0), &["is -2.0"]),
    ];
    for (key, value, want) in edits {
        let dir = tempfile::tempdir().unwrap();
        let s = copy(
            dir.path(),
            "saes/gpt2-l1-resid_pre-standard-v6_checkpoint_norm",
        );
        edit_json(&s, "activation_scaler.json", |c| {
            c.insert(key.into(), value.clone());
        });
        let err = eval_fails(&fixtures().join("gpt2"), &s, &tokens(), &[]);
        let mut want = want.to_vec();
        let path = s.join("activation_scaler.json").display().to_string();
        want.push(&path);
        says(&err, &want);
    }
}
