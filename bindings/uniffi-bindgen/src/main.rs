//! `uniffi-bindgen`: generates the Python and Kotlin sources of `bindings/ffi` from its built
//! library (`cargo run -p uniffi-bindgen -- generate --language kotlin --out-dir DIR LIB.so`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
