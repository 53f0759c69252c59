//! With the `tch` feature, records libtorch's library folder in the binaries' rpath so they run
//! without LD_LIBRARY_PATH. DT_RPATH (not RUNPATH) because libtorch's own libraries look for their
//! dependencies (libcudart, libcupti) through it too.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags,-rpath,{lib}");
    }
}
