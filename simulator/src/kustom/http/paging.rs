//! Pages (KCONV-12…KCONV-16): the shape every list answers with, and its query parameters.

use serde::Serialize;

use super::query::{Invalid, Query};

/// KCONV-12.
#[derive(Debug, Serialize)]
pub(crate) struct Page<T: Serialize> {
    pub(crate) content: Vec<T>,
    pub(crate) total_elements: u64,
    pub(crate) total_pages: u64,
    pub(crate) page_number: u64,
    pub(crate) page_size: u64,
    pub(crate) first: bool,
    pub(crate) last: bool,
}

/// `page_number` and `page_size` as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    pub(crate) number: u64,
    pub(crate) size: u64,
}

/// KCONV-13, KCONV-15: ASCII digits; `page_number` 0…2 147 483 647 (default 0); `page_size` 1 to
/// `max_size` (default 20). KCONV-16 on anything else, or a parameter given twice.
pub(crate) fn parse(q: &Query, max_size: u64, invalid: &mut Invalid) -> Paging {
    let number = read(q, "page_number", 0, 0, i32::MAX as u64, invalid).unwrap_or(0);
    let size = read(q, "page_size", 20, 1, max_size, invalid).unwrap_or(20);
    Paging { number, size }
}

fn read(q: &Query, name: &str, default: u64, min: u64, max: u64, invalid: &mut Invalid) -> Option<u64> {
    let raw = invalid.check(name, q.one(name), "KCONV-16")?;
    let Some(raw) = raw else { return Some(default) };
    let parsed = (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit())).then(|| raw.parse::<u64>().ok()).flatten();
    match parsed {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            invalid.add(name, format!("must be a whole number from {min} to {max}"), "KCONV-16");
            None
        }
    }
}

/// KCONV-14: the page of `all` (already filtered and sorted).
pub(crate) fn page<T: Serialize>(all: Vec<T>, p: Paging) -> Page<T> {
    let total = all.len() as u64;
    let total_pages = total.div_ceil(p.size);
    let skip = usize::try_from(p.number.saturating_mul(p.size)).unwrap_or(usize::MAX);
    let content: Vec<T> = all.into_iter().skip(skip).take(usize::try_from(p.size).unwrap_or(usize::MAX)).collect();
    Page {
        content,
        total_elements: total,
        total_pages,
        page_number: p.number,
        page_size: p.size,
        first: p.number == 0,
        last: p.number + 1 >= total_pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(raw: &str, max: u64) -> Result<Paging, crate::kustom::http::problem::Problem> {
        let mut invalid = Invalid::default();
        let p = parse(&Query::parse(Some(raw)), max, &mut invalid);
        invalid.finish().map(|()| p)
    }

    #[test]
    fn kconv_13_kconv_15_kconv_16_parameters() {
        assert_eq!(paging("", 100).ok(), Some(Paging { number: 0, size: 20 }));
        assert_eq!(paging("page_number=2&page_size=100", 100).ok(), Some(Paging { number: 2, size: 100 }));
        for bad in [
            "page_size=0",
            "page_size=101",
            "page_number=-1",
            "page_number=+1",
            "page_number=1.0",
            "page_number=2147483648",
            "page_size=1&page_size=2",
            "page_number=%D9%A1",
        ] {
            let err = paging(bad, 100).expect_err(bad);
            assert_eq!((err.status.as_u16(), err.rule), (400, "KCONV-16"), "{bad}");
        }
        let both = paging("page_size=0&page_number=x", 100).expect_err("both");
        assert_eq!(both.errors.map(|e| e.len()), Some(2), "KERR-03: every invalid parameter");
        assert_eq!(paging("page_size=5000", i32::MAX as u64).ok().map(|p| p.size), Some(5000), "locations: no 100 cap");
    }

    #[test]
    fn kconv_14_page_arithmetic() {
        let p = page((0..45).collect::<Vec<_>>(), Paging { number: 2, size: 20 });
        assert_eq!((p.content.len(), p.total_elements, p.total_pages, p.first, p.last), (5, 45, 3, false, true));
        let p = page(Vec::<u8>::new(), Paging { number: 0, size: 20 });
        assert_eq!((p.total_pages, p.first, p.last), (0, true, true));
        let p = page((0..3).collect::<Vec<_>>(), Paging { number: 7, size: 20 });
        assert!(p.content.is_empty() && p.last);
    }
}
