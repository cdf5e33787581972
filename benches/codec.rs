//! Q.2931 codec: SETUP and RELEASE, encode and decode, through the same functions the call
//! manager uses (`atmmcm::uni::msg::{encode, decode}` over `wire::q2931`).
//!
//! `cargo bench --bench codec -- --noplot`

use std::hint::black_box;

use atmmcm::uni::msg::{Diag, MAX_MESSAGE, Out, decode, encode};
use atmmcm::uni::state::CallRef;
use criterion::{Criterion, criterion_group};

fn benches(c: &mut Criterion) {
    let mut params = atmmcm_hw::lab::call_to(b"12345678");
    params.calling = atmmcm_hw::lab::e164(b"1001");
    params.media.connection_id = atmmcm::ndis::VpiVci { vpi: 0, vci: 100 };
    let cref = CallRef { value: 0x12_3456, ours: true };
    let setup = Out::Setup { cref, params: &params, multipoint: false };
    let release = Out::Release { cref, cause: 16, diagnostic: Diag::NONE, timer: Some(*b"308"), user_user: &[] };
    let mut buf = [0u8; MAX_MESSAGE];
    let n_setup = encode(&setup, &mut buf).expect("SETUP encodes");
    let setup_bytes = buf[..n_setup].to_vec();
    let n_release = encode(&release, &mut buf).expect("RELEASE encodes");
    let release_bytes = buf[..n_release].to_vec();
    // The decoder reads back what the encoder wrote.
    let m = decode(&setup_bytes).expect("SETUP decodes");
    assert_eq!(m.cref.value, cref.value);
    assert_eq!(m.called, params.called);
    assert_eq!(decode(&release_bytes).expect("RELEASE decodes").cause, Some(16));

    let mut g = c.benchmark_group("codec");
    g.bench_function("setup_encode", |b| b.iter(|| encode(black_box(&setup), black_box(&mut buf))));
    g.bench_function("setup_decode", |b| b.iter(|| decode(black_box(&setup_bytes)).map(|m| m.cref)));
    g.bench_function("release_encode", |b| b.iter(|| encode(black_box(&release), black_box(&mut buf))));
    g.bench_function("release_decode", |b| b.iter(|| decode(black_box(&release_bytes)).map(|m| m.cause)));
    g.finish();
}

criterion_group!(codec, benches);

fn main() {
    codec();
    Criterion::default().configure_from_args().final_summary();
}
