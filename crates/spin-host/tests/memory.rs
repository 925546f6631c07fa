//! Per-instance memory limit (`SPIN_MAX_INSTANCE_MEMORY`), as observed on
//! Spin 3.6.3: within the limit → 200, beyond it the guest's
//! allocation fails, it traps and the response is `500` with an empty body.

mod common;

use common::get;

#[test]
fn max_instance_memory_limits_each_instance() {
    let host = common::start(&[], &[("SPIN_MAX_INSTANCE_MEMORY", "104857600")]);
    assert_eq!(
        get(&host, "/alloc/50"),
        (200, "allocated 50 MiB (12800 pages)".into())
    );
    assert_eq!(get(&host, "/alloc/200"), (500, String::new()));
    assert!(
        common::output_contains(&host, "memory allocation of 209715200 bytes failed"),
        "{}",
        host.output()
    );
    // The host keeps serving, and the limit applies to each new instance.
    assert_eq!(get(&host, "/counter"), (200, "1".into()));
    assert_eq!(get(&host, "/alloc/50").0, 200);
    assert_eq!(get(&host, "/alloc/200"), (500, String::new()));
    assert_eq!(get(&host, "/counter"), (200, "1".into()));
}

#[test]
fn no_limit_by_default() {
    let host = common::start(&[], &[]);
    assert_eq!(
        get(&host, "/alloc/200"),
        (200, "allocated 200 MiB (51200 pages)".into())
    );
}
