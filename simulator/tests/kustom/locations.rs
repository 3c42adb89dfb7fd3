//! §2.11 locations.

use serde_json::json;

use super::common::*;

#[tokio::test]
async fn kloc_01_kloc_03_kloc_04_kloc_05_the_fixtures_locations_in_order() {
    let k = Kustom::new();
    let one = k.list("/ipp/v1/locations", KEY1).await;
    assert_eq!(one.body["content"], json!([{"id": L1, "name": "Downtown Store", "city": "Stockholm"}]), "KLOC-03");
    let two = k.list("/ipp/v1/locations", KEY2).await;
    let ids: Vec<&str> = two.body["content"].as_array().expect("content").iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, [L2A, L2B], "KLOC-04: fixture order; KLOC-05: one merchant with one, one with two");
    let paged = k.list("/ipp/v1/locations?page_size=1&page_number=1", KEY2).await;
    assert_eq!((paged.body["content"][0]["id"].as_str(), paged.body["total_pages"].as_u64()), (Some(L2B), Some(2)), "KLOC-01");
}

#[tokio::test]
async fn kloc_02_kloc_07_one_location_of_the_merchant() {
    let k = Kustom::new();
    assert_eq!(k.list(&format!("/ipp/v1/locations/{}", L1.to_uppercase()), KEY1).await.str("/name"), "Downtown Store", "KLOC-02");
    k.list(&format!("/ipp/v1/locations/{L2A}"), KEY1).await.problem(404, "Location not found");
    k.list("/ipp/v1/locations/0cb1e29c-658c-4a14-95e6-0af593bd04cf", KEY1).await.problem(404, "Location not found");
}

#[test]
fn kloc_04_fixtures_are_checked() {
    let bad = "[[kustom.merchants]]\nid = \"m-1\"\nname = \"x\"\napi_key = \"kco_test_ipp_aaaaaaaaaaaaaaaaaaaaaaaa\"\nusername = \"m-1-abcdef\"\n";
    let err = viopay_sim::Fixtures::parse(bad, "f.toml").expect_err("a MID with -").to_string();
    assert!(err.starts_with("f.toml:2:"), "{err}");
    let key =
        "[[kustom.merchants]]\nid = \"m1\"\nname = \"x\"\napi_key = \"kco_live_ipp_aaaaaaaaaaaaaaaaaaaaaaaa\"\nusername = \"m1-abcdef\"\n";
    assert!(viopay_sim::Fixtures::parse(key, "f.toml").expect_err("KAUTH-03").to_string().contains("KAUTH-03"));
    // A location id in any case is kept in lowercase (KCONV-06): `kustom/fixtures.rs`'s unit test.
}
