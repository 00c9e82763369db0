//! A single-page app in Chromium, served with `fallback = "index.html"`: its routes are
//! `history.pushState` paths that exist only in the app. Following a link changes the route without
//! a request; loading or reloading the route's URL asks staticd for a path that is no file, and the
//! fallback must answer with the app, which then shows that route. A script the app loads from a
//! missing file must fail to load (a 404), never be given the app's HTML.

use crate::chromium::{Driver, artifacts_dir};
use crate::common::*;
use serde_json::{Value, json};

const INDEX: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>SPA</title>
<script src="/assets/app.3f9a1c2e.js" defer></script></head>
<body><nav><a id="to-x" href="/route/x">x</a> <a id="to-y" href="/route/y/deep">y</a></nav>
<main id="view">loading</main></body></html>
"#;

const APP: &str = r#"
function render() {
  document.getElementById('view').textContent = 'route:' + location.pathname;
}
document.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (!a) return;
  e.preventDefault();
  history.pushState({}, '', a.getAttribute('href'));
  render();
});
window.addEventListener('popstate', render);
render();
const s = document.createElement('script');
s.src = '/assets/missing.js';
s.onload = () => { window.missingScript = 'loaded'; };
s.onerror = () => { window.missingScript = 'error'; };
document.head.appendChild(s);
"#;

/// Resolves once `#view` reads `arguments[0]` and the missing script has settled (or after 10 s),
/// with what the page shows.
const WAIT_VIEW: &str = r#"
const done = arguments[arguments.length - 1];
const want = arguments[0];
const t0 = Date.now();
(function poll() {
  const v = document.getElementById('view');
  const view = v ? v.textContent : null;
  const state = { view, missing: window.missingScript || null, title: document.title,
                  path: location.pathname };
  if ((view === want && state.missing) || Date.now() - t0 > 10000) done(state);
  else setTimeout(poll, 50);
})();
"#;

fn wait_view(driver: &Driver, want: &str) -> Value {
    driver.execute_async(WAIT_VIEW, json!([want]))
}

#[test]
fn chromium_runs_a_single_page_app_whose_routes_survive_a_reload() {
    let server = Server::builder()
        .config("[files]\nfallback = \"index.html\"\n")
        .files(&[
            ("index.html", INDEX.as_bytes()),
            ("assets/app.3f9a1c2e.js", APP.as_bytes()),
        ])
        .start();
    let driver = Driver::start(&artifacts_dir().join("chromedriver-spa.log"));

    driver.navigate(&server.url("/"));
    let state = wait_view(&driver, "route:/");
    assert_eq!(state["view"], "route:/", "{state}");
    assert_eq!(
        state["missing"], "error",
        "a missing script is a 404, not the app: {state}"
    );

    // A click is a pushState route: no request, the app shows it.
    driver.execute("document.getElementById('to-x').click();");
    let state = wait_view(&driver, "route:/route/x");
    assert_eq!(state["path"], "/route/x", "{state}");

    // Loading the route's URL again (a reload) asks the server for /route/x: the fallback.
    driver.navigate(&server.url("/route/x"));
    let state = wait_view(&driver, "route:/route/x");
    assert_eq!(state["view"], "route:/route/x", "{state}");
    assert_eq!(state["title"], "SPA", "{state}");
    assert_eq!(state["missing"], "error", "{state}");

    // A deep link opened first, then back to the previous route.
    driver.navigate(&server.url("/route/y/deep"));
    let state = wait_view(&driver, "route:/route/y/deep");
    assert_eq!(state["view"], "route:/route/y/deep", "{state}");
    driver.execute("history.back();");
    let state = wait_view(&driver, "route:/route/x");
    assert_eq!(state["path"], "/route/x", "{state}");

    // The browser's reload of a route: a new document from the server, the same route shown.
    driver.execute("window.beforeReload = true;");
    driver.refresh();
    let state = wait_view(&driver, "route:/route/x");
    assert_eq!(state["view"], "route:/route/x", "{state}");
    assert_eq!(
        driver.execute("return window.beforeReload === undefined;"),
        json!(true),
        "the reload loaded a new document"
    );

    // The server saw the navigations as 200s and the missing script as a 404 (the access log is
    // written in batches: wait for its lines).
    let requests = [
        ("GET /route/x HTTP/1.1", 200),
        ("GET /route/y/deep HTTP/1.1", 200),
        ("GET /assets/missing.js HTTP/1.1", 404),
    ];
    // /route/x is asked for twice: the navigation to it and the reload.
    let route_x_loads = |log: &str| log.matches("GET /route/x HTTP/1.1").count();
    wait_until(std::time::Duration::from_secs(5), || {
        let log = server.access_log();
        requests.iter().all(|(request, _)| log.contains(request)) && route_x_loads(&log) >= 2
    });
    let log = server.access_log();
    assert_eq!(route_x_loads(&log), 2, "{log}");
    let status_of = |line: &str| {
        parse_access_line(line)
            .unwrap_or_else(|| panic!("bad line {line}"))
            .status
    };
    for (request, status) in requests {
        let line = log
            .lines()
            .find(|l| l.contains(request))
            .unwrap_or_else(|| panic!("no {request} in the access log:\n{log}"));
        assert_eq!(status_of(line), status, "{line}");
    }
    // The reload revalidates the page it holds (no-cache, with the fallback file's ETag): a 304,
    // or a 200 if the browser chose to fetch it whole.
    let reload = log
        .lines()
        .filter(|l| l.contains("GET /route/x HTTP/1.1"))
        .nth(1)
        .expect("the reload's line");
    assert!(matches!(status_of(reload), 200 | 304), "{reload}");
}
