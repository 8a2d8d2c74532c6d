//! `eventflow examples`: the bundled example scenarios embedded in the binary, listed or printed.
//!
//! `eventflow examples` lists each example's name (what `examples NAME` accepts) beside its
//! scenario title; `eventflow examples NAME > my.json` writes one out to edit. The texts come
//! from [`crate::examples`], so a copied or installed binary has every example.

use std::process::ExitCode;

use crate::examples;

/// Lists every example, or prints the one called `name` (file stem, file name or title).
pub fn run(name: Option<&str>) -> ExitCode {
    let all = examples::all();
    let Some(name) = name else {
        return super::sweep::print(&listing(&all));
    };
    if let Some(e) = examples::find(name) {
        return super::sweep::print(e.text);
    }
    let hint = crate::names::did_you_mean(name, all.iter().map(examples::Example::stem))
        .map(|h| format!("; {h}"))
        .unwrap_or_default();
    super::invalid(format!(
        "no bundled example `{name}`{hint} (`eventflow examples` lists them)"
    ))
}

/// One line per example: its stem, padded, then its title; a last line says how to use one.
fn listing(all: &[examples::Example]) -> String {
    let width = all.iter().map(|e| e.stem().len()).max().unwrap_or(0);
    let mut out: String = all
        .iter()
        .map(|e| format!("{:<width$}  {}\n", e.stem(), e.name()))
        .collect();
    out.push_str(
        "\nPrint one with `eventflow examples NAME` (redirect it to a file to edit it).\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_has_a_line_per_example_with_its_stem_and_title() {
        let all = examples::all();
        let text = listing(&all);
        for e in &all {
            let line = text
                .lines()
                .find(|l| l.split_whitespace().next() == Some(e.stem()))
                .unwrap_or_else(|| panic!("{} missing from\n{text}", e.stem()));
            assert!(line.ends_with(&e.name()), "{line}");
        }
        assert_eq!(
            text.lines().filter(|l| !l.is_empty()).count(),
            all.len() + 1
        );
    }
}
