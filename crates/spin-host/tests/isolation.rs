//! A fresh instance per request: a static counter is always 1.

mod common;

#[test]
fn static_counter_stays_one() {
    let host = common::start(&[], &[]);
    for _ in 0..3 {
        assert_eq!(common::get(&host, "/counter"), (200, "1".into()));
    }
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let url = format!("{}/counter", host.base_url());
            std::thread::spawn(move || {
                testkit::agent()
                    .get(url)
                    .call()
                    .unwrap()
                    .into_body()
                    .read_to_string()
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "1");
    }
}
