//! Did you mean: the name nearest to a misspelt one, for messages (a baseline entry, a budget's
//! `match` and `metric`).

/// The name among `names` nearest to `name`, when it is near enough to be what was meant: at most
/// two edits (a letter added, dropped, changed, or two side by side swapped) and one per three
/// letters of `name`, at least one; the first of equally near ones. `parse-larg` finds
/// `parse-large`, `mian` finds `main`; `parse` does not find `render`, nor `name` itself.
pub(crate) fn nearest<S: AsRef<str>>(name: &str, names: impl IntoIterator<Item = S>) -> Option<S> {
    let length = name.chars().count();
    let most = (length / 3).clamp(1, 2);
    let mut best: Option<(usize, S)> = None;
    for n in names {
        if n.as_ref() == name {
            continue;
        }
        // At least one edit per letter of difference in length: too far, without counting them.
        if n.as_ref().chars().count().abs_diff(length) > most {
            continue;
        }
        let d = edits(name, n.as_ref());
        if d <= most && best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, n));
        }
    }
    best.map(|(_, n)| n)
}

/// The edits between `a` and `b`: letters added, dropped or changed, and two side by side swapped
/// (optimal string alignment).
pub(crate) fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let change = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + change);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_and_far_ones() {
        let names = ["parse-large", "main", "render"];
        assert_eq!(nearest("parse-larg", names), Some("parse-large"));
        assert_eq!(nearest("parse-lrage", names), Some("parse-large"));
        assert_eq!(nearest("mian", names), Some("main"));
        assert_eq!(nearest("man", names), Some("main"));
        assert_eq!(nearest("parse", names), None);
        assert_eq!(nearest("main", names), None, "the name itself is no typo");
        assert_eq!(
            nearest(
                "textstat::cache::BoundedCach",
                ["textstat::cache::BoundedCache"]
            ),
            Some("textstat::cache::BoundedCache")
        );
        assert_eq!(edits("kitten", "sitting"), 3);
        assert_eq!(edits("ab", "ba"), 1);
        assert_eq!(edits("", "abc"), 3);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2048, failure_persistence: None, ..Default::default()
        })]

        /// `nearest` passes over names whose length differs from the name's by more than the
        /// edits allowed, without counting their edits: it finds what counting every name's
        /// edits finds.
        #[test]
        fn nearest_finds_what_counting_every_names_edits_finds(
            name in "[a-cé]{0,7}",
            names in proptest::collection::vec("[a-cé]{0,9}", 0..12),
        ) {
            let most = (name.chars().count() / 3).clamp(1, 2);
            let mut best: Option<(usize, &String)> = None;
            for n in names.iter().filter(|n| **n != name) {
                let d = edits(&name, n);
                if d <= most && best.is_none_or(|(b, _)| d < b) {
                    best = Some((d, n));
                }
            }
            proptest::prop_assert_eq!(nearest(&name, &names), best.map(|(_, n)| n));
        }
    }
}
