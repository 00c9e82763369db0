//! Preconditions (RFC 9110 §13.1): If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
//! evaluated in the order of RFC 9110 §13.2.2.

use super::*;

// If-None-Match and If-Modified-Since
// ---------------------------------------------------------------------------------------------

#[test]
fn if_none_match_exact_weak_list_and_star_give_304() {
    let f = fixture();
    let full = get(&f.server, "/page.html", &[]);
    assert_full(&full, PAGE, "GET /page.html");
    assert_eq!(full.header("cache-control"), Some("no-cache"));
    let etag = strong_etag(&full, "page");
    let weak = format!("W/{etag}");
    let list = format!("\"nope\", {etag}, \"other\"");
    let tight_list = format!("\"nope\",{weak}");
    for value in [etag.as_str(), &weak, &list, &tight_list, "*"] {
        for method in ["GET", "HEAD"] {
            let what = format!("{method} If-None-Match: {value}");
            let r = send_then_probe(&f.server, method, "/page.html", &[("If-None-Match", value)]);
            assert_not_modified(&r, &full, &what);
        }
    }
    // Also on a file without a Cache-Control rule: none on the 304 either.
    let data_full = get(&f.server, "/data.txt", &[]);
    let tag = strong_etag(&data_full, "data");
    let r = send_then_probe(
        &f.server,
        "GET",
        "/data.txt",
        &[("If-None-Match", tag.as_str())],
    );
    assert_not_modified(&r, &data_full, "data.txt If-None-Match");
}

#[test]
fn if_none_match_mismatch_gives_200() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/page.html", &[]), "page");
    let unquoted = etag.trim_matches('"').to_string();
    let other = format!("\"x{}", &etag[1..]);
    for value in ["\"nope\"", "W/\"nope\"", "\"a\", \"b\"", &other, &unquoted] {
        let r = get(&f.server, "/page.html", &[("If-None-Match", value)]);
        assert_full(&r, PAGE, &format!("If-None-Match: {value}"));
    }
}

#[test]
fn if_modified_since_equal_or_later_is_304_earlier_is_200() {
    let f = fixture();
    let full = get(&f.server, "/page.html", &[]);
    for value in [
        LAST_MODIFIED,
        LAST_MODIFIED_RFC850,
        LAST_MODIFIED_ASCTIME,
        DAY_AFTER,
        "Sunday, 09-Sep-01 01:46:41 GMT",
        "Mon Sep 10 01:46:40 2001",
    ] {
        let what = format!("If-Modified-Since: {value}");
        let r = send_then_probe(
            &f.server,
            "GET",
            "/page.html",
            &[("If-Modified-Since", value)],
        );
        assert_not_modified(&r, &full, &what);
        let r = send_then_probe(
            &f.server,
            "HEAD",
            "/page.html",
            &[("If-Modified-Since", value)],
        );
        assert_not_modified(&r, &full, &format!("HEAD {what}"));
    }
    for value in [
        DAY_BEFORE,
        "Sun, 09 Sep 2001 01:46:39 GMT",
        "Saturday, 08-Sep-01 01:46:40 GMT",
        "Sun Sep  9 01:46:39 2001",
    ] {
        let r = get(&f.server, "/page.html", &[("If-Modified-Since", value)]);
        assert_full(&r, PAGE, &format!("If-Modified-Since: {value}"));
    }
}

#[test]
fn if_modified_since_is_ignored_with_if_none_match_or_when_not_one_valid_date() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/page.html", &[]), "page");
    // RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since if If-None-Match is present.
    let r = get(
        &f.server,
        "/page.html",
        &[
            ("If-None-Match", "\"nope\""),
            ("If-Modified-Since", DAY_AFTER),
        ],
    );
    assert_full(
        &r,
        PAGE,
        "If-None-Match mismatch with If-Modified-Since later",
    );
    let list = format!("{LAST_MODIFIED}, {LAST_MODIFIED}");
    for value in [
        "yesterday",
        "Sun, 09 Sep 2001 01:46:40",
        "Sun, 32 Sep 2001 01:46:40 GMT",
        "1000000000",
        "",
        list.as_str(),
    ] {
        let r = get(&f.server, "/page.html", &[("If-Modified-Since", value)]);
        assert_full(&r, PAGE, &format!("If-Modified-Since: {value:?}"));
    }
    // Two fields are a list too (RFC 9110 §5.3).
    let r = get(
        &f.server,
        "/page.html",
        &[
            ("If-Modified-Since", LAST_MODIFIED),
            ("If-Modified-Since", DAY_AFTER),
        ],
    );
    assert_full(&r, PAGE, "two If-Modified-Since fields");
    // And with If-None-Match matching, the 304 comes from If-None-Match whatever the date says.
    let r = send_then_probe(
        &f.server,
        "GET",
        "/page.html",
        &[
            ("If-None-Match", etag.as_str()),
            ("If-Modified-Since", DAY_BEFORE),
        ],
    );
    assert_status(
        &r,
        304,
        "If-None-Match match with an earlier If-Modified-Since",
    );
}

// ---------------------------------------------------------------------------------------------
// If-Match and If-Unmodified-Since
// ---------------------------------------------------------------------------------------------

#[test]
fn if_match_uses_the_strong_comparison() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/data.txt", &[]), "data");
    let list = format!("\"nope\", {etag}");
    for value in ["*", etag.as_str(), &list] {
        let r = get(&f.server, "/data.txt", &[("If-Match", value)]);
        assert_full(&r, &data(), &format!("If-Match: {value}"));
    }
    let weak = format!("W/{etag}");
    let weak_list = format!("\"nope\", {weak}");
    for value in ["\"nope\"", weak.as_str(), &weak_list] {
        let r = get(&f.server, "/data.txt", &[("If-Match", value)]);
        assert_status(&r, 412, &format!("If-Match: {value}"));
        assert!(
            r.body != data(),
            "If-Match: {value}: the 412 carries the file"
        );
        let head = send_then_probe(&f.server, "HEAD", "/data.txt", &[("If-Match", value)]);
        assert_status(&head, 412, &format!("HEAD If-Match: {value}"));
    }
}

#[test]
fn if_unmodified_since_earlier_is_412_and_it_is_ignored_with_if_match_or_when_invalid() {
    let f = fixture();
    let etag = strong_etag(&get(&f.server, "/data.txt", &[]), "data");
    for value in [
        DAY_BEFORE,
        "Sun, 09 Sep 2001 01:46:39 GMT",
        "Sat Sep  8 01:46:40 2001",
    ] {
        let r = get(&f.server, "/data.txt", &[("If-Unmodified-Since", value)]);
        assert_status(&r, 412, &format!("If-Unmodified-Since: {value}"));
    }
    for value in [
        LAST_MODIFIED,
        DAY_AFTER,
        LAST_MODIFIED_RFC850,
        "not a date",
        "",
    ] {
        let r = get(&f.server, "/data.txt", &[("If-Unmodified-Since", value)]);
        assert_full(&r, &data(), &format!("If-Unmodified-Since: {value:?}"));
    }
    // RFC 9110 §13.1.4: ignored when If-Match is present.
    let r = get(
        &f.server,
        "/data.txt",
        &[
            ("If-Match", etag.as_str()),
            ("If-Unmodified-Since", DAY_BEFORE),
        ],
    );
    assert_full(
        &r,
        &data(),
        "If-Match match with an earlier If-Unmodified-Since",
    );
}

/// Request fields as (name, value).

#[test]
fn preconditions_are_evaluated_in_the_order_of_rfc_9110_13_2_2() {
    let f = fixture();
    let full = get(&f.server, "/data.txt", &[]);
    let etag = strong_etag(&full, "data");
    let cases: &[(Fields, u16, &str)] = &[
        // Step 1 before step 3: a failed If-Match wins over a matching If-None-Match.
        (
            &[("If-Match", "\"nope\""), ("If-None-Match", etag.as_str())],
            412,
            "If-Match fails first",
        ),
        (
            &[
                ("If-Match", etag.as_str()),
                ("If-None-Match", etag.as_str()),
            ],
            304,
            "If-Match passes, If-None-Match matches",
        ),
        (
            &[("If-Match", etag.as_str()), ("If-None-Match", "\"nope\"")],
            200,
            "both pass",
        ),
        // Step 2 before step 3.
        (
            &[
                ("If-Unmodified-Since", DAY_BEFORE),
                ("If-None-Match", etag.as_str()),
            ],
            412,
            "If-Unmodified-Since fails first",
        ),
        (
            &[
                ("If-Unmodified-Since", DAY_AFTER),
                ("If-None-Match", etag.as_str()),
            ],
            304,
            "If-Unmodified-Since passes",
        ),
        // Step 2 before step 4.
        (
            &[
                ("If-Unmodified-Since", DAY_BEFORE),
                ("If-Modified-Since", DAY_AFTER),
            ],
            412,
            "If-Unmodified-Since fails before If-Modified-Since",
        ),
        // Steps 1-4 before step 5 and the Range.
        (
            &[("If-Match", "\"nope\""), ("Range", "bytes=0-9")],
            412,
            "If-Match fails before Range",
        ),
        (
            &[("If-None-Match", etag.as_str()), ("Range", "bytes=0-9")],
            304,
            "If-None-Match before Range",
        ),
        (
            &[("If-Modified-Since", LAST_MODIFIED), ("Range", "bytes=0-9")],
            304,
            "If-Modified-Since before Range",
        ),
        (
            &[("If-Match", etag.as_str()), ("Range", "bytes=0-9")],
            206,
            "If-Match passes, then Range",
        ),
        (
            &[
                ("If-None-Match", "\"nope\""),
                ("Range", "bytes=0-9"),
                ("If-Range", etag.as_str()),
            ],
            206,
            "all pass, then If-Range",
        ),
    ];
    for (headers, status, what) in cases {
        let r = send_then_probe(&f.server, "GET", "/data.txt", headers);
        assert_status(&r, *status, &format!("{what}: {headers:?}"));
        match status {
            304 => assert_not_modified(&r, &full, what),
            200 => assert!(r.body == data(), "{what}: the full file"),
            206 => assert!(r.body == data()[..10], "{what}: the first 10 bytes"),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn preconditions_do_not_turn_a_404_into_412_or_304() {
    // RFC 9110 §13.2.1: preconditions are ignored when the response without them would not be
    // 2xx or 412.
    let f = fixture();
    for (name, value) in [
        ("If-Match", "*"),
        ("If-None-Match", "*"),
        ("If-None-Match", "\"x\""),
        ("If-Unmodified-Since", DAY_BEFORE),
        ("If-Modified-Since", DAY_AFTER),
    ] {
        let r = get(&f.server, "/missing.txt", &[(name, value)]);
        assert_status(&r, 404, &format!("missing file with {name}: {value}"));
    }
}
