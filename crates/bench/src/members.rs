//! The run's members: registered and logged in through the app before any
//! load, each from its own client address.

use crate::client::{Client, Req, send_expect};
use crate::scenario::{json_headers, uri};
use http::{HeaderMap, HeaderValue, Method};

/// Registrations in flight at once: argon2id runs single-threaded per
/// request, so two per core keep both cores busy while the others wait on
/// PostgreSQL or HTTP.
const REGISTERING_AT_ONCE: usize = 4;

/// A member registered and logged in before the load starts. Its `Debug`
/// hides the password and the token.
#[derive(Clone)]
pub struct Member {
    /// `member_id`.
    pub id: String,
    /// The plain password.
    pub pw: String,
    /// `Bearer <token>`.
    pub bearer: HeaderValue,
    /// The address the member's requests come from, through the trusted proxy
    /// (`X-Forwarded-For`): every member its own, as real customers (so the
    /// per-address login and registration limits never trip).
    pub from: HeaderValue,
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("id", &self.id)
            .field("pw", &"[REDACTED]")
            .field("bearer", &"[REDACTED]")
            .field("from", &self.from)
            .finish()
    }
}

/// JSON headers of a request a member sends from `from` through the proxy.
pub fn member_headers(from: &HeaderValue) -> HeaderMap {
    let mut h = json_headers();
    h.insert("x-forwarded-for", from.clone());
    h
}

/// Registers and logs in `n` members (`bench<run>_<i>`), [`REGISTERING_AT_ONCE`] at a time.
pub async fn register(
    client: &Client,
    base: &str,
    run: &str,
    n: usize,
) -> anyhow::Result<Vec<Member>> {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..REGISTERING_AT_ONCE {
        let (client, base, run) = (client.clone(), base.to_owned(), run.to_owned());
        tasks.spawn(async move {
            let mut out = Vec::new();
            for i in (worker..n).step_by(REGISTERING_AT_ONCE) {
                let from = HeaderValue::from_str(&format!("fd00::b:{i:x}"))?;
                out.push((
                    i,
                    member(&client, &base, &format!("bench{run}_{i}"), from).await?,
                ));
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, m)| m).collect())
}

async fn member(
    client: &Client,
    base: &str,
    id: &str,
    from: HeaderValue,
) -> anyhow::Result<Member> {
    let pw = format!("pw-{id}-correct-horse");
    let post = |label, path, body: serde_json::Value, expect| Req {
        label,
        method: Method::POST,
        uri: uri(base, path),
        headers: member_headers(&from),
        body: body.to_string().into(),
        expect,
    };
    let register = post(
        "POST /api/login/register/",
        "/api/login/register/",
        serde_json::json!({"id": id, "pw": pw, "name": "Bench"}),
        &[201],
    );
    send_expect(client, &register).await?;
    let login = post(
        "POST /api/login/",
        "/api/login/",
        serde_json::json!({"id": id, "pw": pw}),
        &[200],
    );
    let answer = send_expect(client, &login).await?;
    let token = serde_json::from_slice::<serde_json::Value>(&answer.body)?["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login answered without a token"))?
        .to_owned();
    Ok(Member {
        id: id.to_owned(),
        pw,
        bearer: HeaderValue::from_str(&format!("Bearer {token}"))?,
        from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password_and_the_token() {
        let member = Member {
            id: "bench_1".into(),
            pw: "hunter2-hunter2".into(),
            bearer: HeaderValue::from_static("Bearer eyJ.secret.sig"),
            from: HeaderValue::from_static("fd00::b:1"),
        };
        let shown = format!("{member:?}");
        assert!(shown.contains("bench_1"), "{shown}");
        for secret in ["hunter2", "eyJ"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
