//! The notes panel: a scenario's `description` rendered as Markdown.
//!
//! Scenario descriptions are a few paragraphs of workshop text ("what to look at, what to change,
//! what to expect"), so this is a small renderer for the Markdown people actually write there:
//! ATX and setext headings, paragraphs with hard breaks, `**bold**`, `*italic*`, `~~struck~~`,
//! `` `code` ``, `[links](https://…)` and `<https://…>`, bullet and numbered lists (nested by
//! indentation), fenced code blocks, block quotes and horizontal rules. It is not `CommonMark`:
//! anything it does not recognise is shown as plain text.
//!
//! Parsing is separate from drawing ([`parse_blocks`], [`parse_inline`]) so it can be tested
//! without a UI. Any input is accepted: the parser works on `char`s (never slicing inside a
//! UTF-8 sequence), unclosed delimiters fall back to literal text, and nesting (block quotes, list
//! depth) is capped so a hostile description cannot overflow the stack.

use eframe::egui;
use egui::text::LayoutJob;
use egui::{Align, FontSelection, RichText, TextStyle, Ui};

/// Deepest block-quote nesting rendered as quotes; deeper `>` markers are shown as text.
const MAX_QUOTE_DEPTH: usize = 4;

/// Deepest list nesting that still indents further (deeper items line up with this level).
const MAX_LIST_DEPTH: usize = 6;

/// Horizontal indent per list level, points.
const LIST_INDENT: f32 = 14.0;

/// Renders `markdown` into `ui`. Never panics, whatever the text.
pub fn show_markdown(ui: &mut Ui, markdown: &str) {
    let blocks = parse_blocks(markdown);
    if blocks.is_empty() {
        ui.weak("No notes for this scenario.");
        return;
    }
    show_blocks(ui, &blocks);
}

/// One block-level element.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    /// `#` … `######` or a setext underline; level 1–6.
    Heading { level: u8, text: String },
    /// Inline text; soft breaks are spaces, hard breaks are `'\n'`.
    Paragraph(String),
    /// A list item: `number` is `Some(n)` for `n.` / `n)` items; `depth` counts from 0.
    Item {
        number: Option<u64>,
        depth: usize,
        text: String,
    },
    /// A fenced code block, shown verbatim.
    Code { text: String },
    /// A block quote, its content parsed as Markdown.
    Quote(Vec<Block>),
    /// `---`, `***` or `___`.
    Rule,
}

/// One run of inline text with a uniform style.
#[derive(Debug, Clone, Default, PartialEq)]
struct Span {
    text: String,
    strong: bool,
    italic: bool,
    strike: bool,
    code: bool,
    /// The target of a link.
    link: Option<String>,
}

// ----- block parsing -----------------------------------------------------------------------------

/// Splits Markdown into blocks.
fn parse_blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    parse_lines(&lines, 0)
}

/// Leading indentation in columns (a tab counts as 4) and the rest of the line.
fn indentation(line: &str) -> (usize, &str) {
    let mut width = 0;
    for (i, c) in line.char_indices() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4,
            _ => return (width, &line[i..]),
        }
    }
    (width, "")
}

/// The fence character and length if `rest` (an unindented line) opens a code fence.
fn fence(rest: &str) -> Option<(char, usize)> {
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = rest.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// `(level, text)` if `rest` is an ATX heading.
fn atx_heading(rest: &str) -> Option<(u8, String)> {
    let hashes = rest.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let after = &rest[hashes..]; // '#' is one byte
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let mut text = after.trim();
    // An optional closing sequence of '#'s, separated by a space, is not part of the text.
    let stripped = text.trim_end_matches('#');
    if stripped.is_empty() || stripped.ends_with([' ', '\t']) {
        text = stripped.trim_end();
    }
    // `hashes` is 1..=6, so it fits.
    Some((u8::try_from(hashes).unwrap_or(6), text.to_owned()))
}

/// Whether `rest` is a thematic break: three or more of one of `-*_`, spaces allowed between.
fn is_rule(rest: &str) -> bool {
    let mut marker = None;
    let mut count = 0;
    for c in rest.chars() {
        match c {
            ' ' | '\t' => {}
            '-' | '*' | '_' if marker.is_none_or(|m| m == c) => {
                marker = Some(c);
                count += 1;
            }
            _ => return false,
        }
    }
    count >= 3
}

/// `(number, content)` if `rest` starts a list item (`- `, `* `, `+ `, `1. `, `1) `).
fn list_marker(rest: &str) -> Option<(Option<u64>, &str)> {
    let mut chars = rest.chars();
    match chars.next()? {
        '-' | '*' | '+' => {
            let after = &rest[1..];
            if after.is_empty() {
                Some((None, ""))
            } else if after.starts_with([' ', '\t']) {
                Some((None, after.trim_start()))
            } else {
                None
            }
        }
        c if c.is_ascii_digit() => {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            // CommonMark allows at most 9 digits, which also keeps the number in a u64.
            if digits > 9 {
                return None;
            }
            let after = &rest[digits..];
            let after = after.strip_prefix(['.', ')'])?;
            if !(after.is_empty() || after.starts_with([' ', '\t'])) {
                return None;
            }
            Some((rest[..digits].parse().ok(), after.trim_start()))
        }
        _ => None,
    }
}

/// Whether `rest` (an unindented line) opens a block other than a paragraph, and so ends the
/// paragraph or list item before it.
fn starts_block(rest: &str, depth: usize) -> bool {
    fence(rest).is_some()
        || atx_heading(rest).is_some()
        || is_rule(rest)
        || list_marker(rest).is_some()
        || (depth < MAX_QUOTE_DEPTH && rest.starts_with('>'))
}

/// Joins a paragraph's lines: a line ending in two spaces or a backslash is a hard break.
fn join_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        let trimmed = line.trim();
        if let Some(body) = trimmed.strip_suffix('\\').filter(|_| !last) {
            out.push_str(body);
            out.push('\n');
        } else {
            out.push_str(trimmed);
            if !last {
                out.push(if line.ends_with("  ") { '\n' } else { ' ' });
            }
        }
    }
    out
}

fn parse_lines(lines: &[&str], depth: usize) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (indent, rest) = indentation(lines[i]);
        if rest.is_empty() {
            i += 1;
            continue;
        }
        let top_level = indent <= 3;
        if let Some((marker, len)) = fence(rest).filter(|_| top_level) {
            i += 1;
            let mut code = Vec::new();
            while i < lines.len() {
                let (_, body) = indentation(lines[i]);
                if body.chars().take_while(|c| *c == marker).count() >= len
                    && body.trim_start_matches(marker).trim().is_empty()
                {
                    i += 1;
                    break;
                }
                code.push(strip_columns(lines[i], indent));
                i += 1;
            }
            blocks.push(Block::Code {
                text: code.join("\n"),
            });
        } else if let Some((level, text)) = atx_heading(rest).filter(|_| top_level) {
            blocks.push(Block::Heading { level, text });
            i += 1;
        } else if top_level && is_rule(rest) {
            // Before list items: "- - -" and "* * *" are rules, as in CommonMark.
            blocks.push(Block::Rule);
            i += 1;
        } else if top_level && depth < MAX_QUOTE_DEPTH && rest.starts_with('>') {
            let mut inner = Vec::new();
            while i < lines.len() {
                let (ind, body) = indentation(lines[i]);
                let Some(quoted) = body.strip_prefix('>').filter(|_| ind <= 3) else {
                    break;
                };
                inner.push(quoted.strip_prefix(' ').unwrap_or(quoted));
                i += 1;
            }
            blocks.push(Block::Quote(parse_lines(&inner, depth + 1)));
        } else if let Some((number, content)) = list_marker(rest) {
            let mut item = vec![content];
            i += 1;
            // Lazy continuation: following non-blank lines that start no block belong to it.
            while i < lines.len() {
                let (_, body) = indentation(lines[i]);
                if body.is_empty() || starts_block(body, depth) {
                    break;
                }
                item.push(lines[i]);
                i += 1;
            }
            blocks.push(Block::Item {
                number,
                depth: (indent / 2).min(MAX_LIST_DEPTH),
                text: join_lines(&item),
            });
        } else {
            let mut para = vec![lines[i]];
            i += 1;
            let mut setext = None;
            while i < lines.len() {
                let (ind, body) = indentation(lines[i]);
                if body.is_empty() {
                    break;
                }
                // A line of '=' or '-' under a paragraph makes it a heading.
                if ind <= 3 && !body.is_empty() {
                    let underline = body.trim_end();
                    if underline.chars().all(|c| c == '=') {
                        setext = Some(1);
                    } else if underline.chars().all(|c| c == '-') {
                        setext = Some(2);
                    }
                    if setext.is_some() {
                        i += 1;
                        break;
                    }
                }
                if starts_block(body, depth) {
                    break;
                }
                para.push(lines[i]);
                i += 1;
            }
            let text = join_lines(&para);
            blocks.push(match setext {
                Some(level) => Block::Heading {
                    level,
                    text: text.replace('\n', " "),
                },
                None => Block::Paragraph(text),
            });
        }
    }
    blocks
}

/// Removes up to `columns` leading spaces (the fence's own indentation) from a code line.
fn strip_columns(line: &str, columns: usize) -> String {
    let spaces = line.chars().take(columns).take_while(|c| *c == ' ').count();
    line[spaces..].to_owned()
}

// ----- inline parsing ----------------------------------------------------------------------------

/// Splits a paragraph into styled spans.
fn parse_inline(text: &str) -> Vec<Span> {
    parse_spans(text, true)
}

/// [`parse_inline`]; `links` is false inside a link's label, so labels never recurse further.
fn parse_spans(text: &str, links: bool) -> Vec<Span> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans = Vec::new();
    let mut style = Span::default();
    let mut buf = String::new();
    let mut i = 0;

    // Pushes the text gathered so far with the current style.
    let flush = |buf: &mut String, style: &Span, spans: &mut Vec<Span>| {
        if !buf.is_empty() {
            spans.push(Span {
                text: std::mem::take(buf),
                ..style.clone()
            });
        }
    };

    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                buf.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let n = run_length(&chars, i, '`');
                if let Some(end) = find_run(&chars, i + n, '`', n) {
                    flush(&mut buf, &style, &mut spans);
                    let mut code: String = chars[i + n..end].iter().collect();
                    if code.len() >= 2 && code.starts_with(' ') && code.ends_with(' ') {
                        code = code[1..code.len() - 1].to_owned();
                    }
                    spans.push(Span {
                        text: code,
                        code: true,
                        ..style.clone()
                    });
                    i = end + n;
                } else {
                    buf.extend(&chars[i..i + n]);
                    i += n;
                }
            }
            '[' if links => {
                if let Some((label, url, next)) = link_at(&chars, i) {
                    flush(&mut buf, &style, &mut spans);
                    spans.push(Span {
                        text: label,
                        link: Some(url),
                        ..style.clone()
                    });
                    i = next;
                } else {
                    buf.push(c);
                    i += 1;
                }
            }
            '<' if links => {
                if let Some((url, next)) = autolink_at(&chars, i) {
                    flush(&mut buf, &style, &mut spans);
                    spans.push(Span {
                        text: url.clone(),
                        link: Some(url),
                        ..style.clone()
                    });
                    i = next;
                } else {
                    buf.push(c);
                    i += 1;
                }
            }
            '*' | '_' | '~' => {
                let n = run_length(&chars, i, c);
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + n).copied();
                let intraword = c == '_'; // snake_case words keep their underscores
                let can_open = next.is_some_and(|x| !x.is_whitespace())
                    && !(intraword && prev.is_some_and(char::is_alphanumeric));
                let can_close = prev.is_some_and(|x| !x.is_whitespace())
                    && !(intraword && next.is_some_and(char::is_alphanumeric));
                let toggles: &[fn(&mut Span) -> &mut bool] = match (c, n) {
                    ('~', 2) => &[|s| &mut s.strike],
                    ('~', _) => &[],
                    (_, 1) => &[|s| &mut s.italic],
                    (_, 2) => &[|s| &mut s.strong],
                    (_, 3) => &[|s| &mut s.strong, |s| &mut s.italic],
                    _ => &[],
                };
                let mut probe = style.clone();
                let open = toggles.iter().all(|t| *t(&mut probe));
                let closes = !toggles.is_empty() && open && can_close;
                let opens = !open
                    && can_open
                    && !toggles.is_empty()
                    && find_closer(&chars, i + n, c, n).is_some();
                if closes || opens {
                    flush(&mut buf, &style, &mut spans);
                    for toggle in toggles {
                        *toggle(&mut style) = opens;
                    }
                } else {
                    buf.extend(&chars[i..i + n]);
                }
                i += n;
            }
            _ => {
                buf.push(c);
                i += 1;
            }
        }
    }
    flush(&mut buf, &style, &mut spans);
    spans
}

/// Number of consecutive `c` from `start`.
fn run_length(chars: &[char], start: usize, c: char) -> usize {
    chars[start..].iter().take_while(|x| **x == c).count()
}

/// Start of the next run of exactly `n` `c`s at or after `from`.
fn find_run(chars: &[char], from: usize, c: char, n: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == c {
            let len = run_length(chars, i, c);
            if len == n {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// Start of a later run of `n` `c`s that can close emphasis (preceded by a non-space).
fn find_closer(chars: &[char], from: usize, c: char, n: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == c {
            let len = run_length(chars, i, c);
            if len == n && i > 0 && !chars[i - 1].is_whitespace() {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// `[label](url "title")` at `start`: the label (formatting markers removed), the URL and the
/// index after the closing parenthesis.
fn link_at(chars: &[char], start: usize) -> Option<(String, String, usize)> {
    let mut depth = 0usize;
    let mut close = None;
    for (k, c) in chars.iter().enumerate().skip(start) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(k);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = chars[close + 2..].iter().position(|c| *c == ')')? + close + 2;
    let inside: String = chars[close + 2..end].iter().collect();
    let url = inside.split_whitespace().next().unwrap_or("");
    let url = url.trim_start_matches('<').trim_end_matches('>').to_owned();
    let label: String = parse_spans(&chars[start + 1..close].iter().collect::<String>(), false)
        .into_iter()
        .map(|s| s.text)
        .collect();
    Some((
        if label.is_empty() { url.clone() } else { label },
        url,
        end + 1,
    ))
}

/// `<scheme:…>` at `start`: the URL and the index after `>`.
fn autolink_at(chars: &[char], start: usize) -> Option<(String, usize)> {
    let end = chars[start + 1..].iter().position(|c| *c == '>')? + start + 1;
    let url: String = chars[start + 1..end].iter().collect();
    let known = ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| url.starts_with(scheme));
    (known && !url.contains(char::is_whitespace)).then_some((url, end + 1))
}

/// Links that may be opened from a scenario file: the web and mail, nothing local.
fn is_openable(url: &str) -> bool {
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

// ----- drawing -----------------------------------------------------------------------------------

fn show_blocks(ui: &mut Ui, blocks: &[Block]) {
    for (index, block) in blocks.iter().enumerate() {
        if index > 0 && !matches!(block, Block::Item { .. }) {
            ui.add_space(ui.spacing().item_spacing.y);
        }
        match block {
            Block::Heading { level, text } => {
                let plain: String = parse_inline(text).into_iter().map(|s| s.text).collect();
                let body = ui
                    .style()
                    .text_styles
                    .get(&TextStyle::Body)
                    .map_or(14.0, |f| f.size);
                let scale = match level {
                    1 => 1.6,
                    2 => 1.35,
                    3 => 1.15,
                    _ => 1.0,
                };
                ui.label(RichText::new(plain).size(body * scale).strong());
            }
            Block::Paragraph(text) => show_inline(ui, text),
            Block::Item {
                number,
                depth,
                text,
            } => {
                ui.horizontal_top(|ui| {
                    // `depth` is capped at MAX_LIST_DEPTH, so the cast is exact.
                    ui.add_space(LIST_INDENT * (*depth as f32 + 0.5));
                    let bullet = match number {
                        Some(n) => format!("{n}."),
                        // The default fonts have "•" and "–" but no "◦".
                        None => if depth % 2 == 0 { "•" } else { "–" }.to_owned(),
                    };
                    ui.label(bullet);
                    ui.vertical(|ui| show_inline(ui, text));
                });
            }
            Block::Code { text } => {
                egui::Frame::new()
                    .fill(ui.visuals().code_bg_color)
                    .inner_margin(6.0)
                    .corner_radius(4.0)
                    .show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.add(egui::Label::new(RichText::new(text).monospace()).wrap());
                    });
            }
            Block::Quote(inner) => {
                ui.horizontal_top(|ui| {
                    let (rect, _) = ui.allocate_exact_size(
                        egui::vec2(3.0, ui.spacing().interact_size.y),
                        egui::Sense::hover(),
                    );
                    ui.painter()
                        .rect_filled(rect, 0.0, ui.visuals().weak_text_color());
                    ui.vertical(|ui| show_blocks(ui, inner));
                });
            }
            Block::Rule => {
                ui.separator();
            }
        }
    }
}

/// Draws one paragraph. Runs of plain and styled text become one wrapped label each (so the text
/// wraps as a whole and reads as one accessible name); links are separate hyperlinks in between.
fn show_inline(ui: &mut Ui, text: &str) {
    let spans = parse_inline(text);
    if !spans.iter().any(|s| s.link.is_some()) {
        let job = layout(ui, &spans);
        ui.add(egui::Label::new(job).wrap());
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        let mut start = 0;
        for (k, span) in spans.iter().enumerate() {
            if let Some(url) = &span.link {
                if start < k {
                    ui.add(egui::Label::new(layout(ui, &spans[start..k])).wrap());
                }
                let text = rich(span);
                if is_openable(url) {
                    ui.hyperlink_to(text, url);
                } else {
                    ui.label(text.underline()).on_hover_text(url);
                }
                start = k + 1;
            }
        }
        if start < spans.len() {
            ui.add(egui::Label::new(layout(ui, &spans[start..])).wrap());
        }
    });
}

fn rich(span: &Span) -> RichText {
    let mut text = RichText::new(&span.text);
    if span.code {
        text = text.code();
    }
    if span.strong {
        text = text.strong();
    }
    if span.italic {
        text = text.italics();
    }
    if span.strike {
        text = text.strikethrough();
    }
    text
}

fn layout(ui: &Ui, spans: &[Span]) -> LayoutJob {
    let mut job = LayoutJob::default();
    for span in spans {
        rich(span).append_to(&mut job, ui.style(), FontSelection::Default, Align::Center);
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;

    fn plain(spans: &[Span]) -> String {
        spans.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn blocks_of_a_workshop_description() {
        let text = "# Flash sale\n\nWatch the **backlog** grow\nafter 2m.  \nThen drain.\n\n\
                    - one\n- two\n  - nested\n1. first\n2) second\n\n```json\n{ \"a\": 1 }\n```\n\
                    > quoted *text*\n\n---\nSetext\n===\n";
        let blocks = parse_blocks(text);
        assert_eq!(
            blocks,
            vec![
                Block::Heading {
                    level: 1,
                    text: "Flash sale".into()
                },
                Block::Paragraph("Watch the **backlog** grow after 2m.\nThen drain.".into()),
                Block::Item {
                    number: None,
                    depth: 0,
                    text: "one".into()
                },
                Block::Item {
                    number: None,
                    depth: 0,
                    text: "two".into()
                },
                Block::Item {
                    number: None,
                    depth: 1,
                    text: "nested".into()
                },
                Block::Item {
                    number: Some(1),
                    depth: 0,
                    text: "first".into()
                },
                Block::Item {
                    number: Some(2),
                    depth: 0,
                    text: "second".into()
                },
                Block::Code {
                    text: "{ \"a\": 1 }".into()
                },
                Block::Quote(vec![Block::Paragraph("quoted *text*".into())]),
                Block::Rule,
                Block::Heading {
                    level: 1,
                    text: "Setext".into()
                },
            ]
        );
    }

    #[test]
    fn inline_styles_and_links() {
        let spans = parse_inline("a **b** *c* `d*e` [site](https://x.y \"t\") <https://z> f_g_h");
        assert_eq!(plain(&spans), "a b c d*e site https://z f_g_h");
        let find = |t: &str| spans.iter().find(|s| s.text == t).unwrap();
        assert!(find("b").strong && !find("b").italic);
        assert!(find("c").italic);
        assert!(find("d*e").code);
        assert_eq!(find("site").link.as_deref(), Some("https://x.y"));
        assert_eq!(find("https://z").link.as_deref(), Some("https://z"));
        // Unclosed or spaced delimiters stay literal.
        assert_eq!(
            plain(&parse_inline("2 * 3 = 6 and **open")),
            "2 * 3 = 6 and **open"
        );
        assert_eq!(plain(&parse_inline(r"\*not italic\*")), "*not italic*");
    }

    #[test]
    fn no_panic_on_odd_input() {
        let nasty = [
            "",
            "#",
            "#######",
            "```",
            "~~~~\nunclosed",
            "[",
            "[a](",
            "[a]",
            "<",
            "<http://",
            "`",
            "``a`",
            "***",
            "* ",
            "1.",
            "1234567890. big",
            "\\",
            "é**ü**ñ `ß` _ø_",
            "\t- tab item\r\n\r\n  > \u{200b}",
            "a  \nb\\\nc\\",
            "-\n=\n",
        ];
        for text in nasty {
            let _ = parse_blocks(text);
            let _ = parse_inline(text);
        }
        let deep = ">".repeat(10_000);
        let blocks = parse_blocks(&deep);
        assert_eq!(blocks.len(), 1);
        let deep_list = format!("{}- x", " ".repeat(1000));
        assert!(matches!(
            parse_blocks(&deep_list)[0],
            Block::Item { depth, .. } if depth == MAX_LIST_DEPTH
        ));
        let brackets = "[".repeat(5000) + &"]".repeat(5000);
        let _ = parse_inline(&brackets);
        let nested_links = "[".repeat(3000) + "a" + &"](u)".repeat(3000);
        let _ = parse_inline(&nested_links);
        assert_eq!(parse_blocks("- - -"), vec![Block::Rule]);
    }

    #[test]
    fn renders_heading_paragraph_and_list() {
        let text = "# Order pipeline\n\nWatch **lag** grow.\n\n- first point\n- second point\n  - nested point\n1. numbered\n\n\
                    See [the docs](https://example.com).\n\n```\ncode here\n```";
        let mut harness = Harness::new_ui(|ui| show_markdown(ui, text));
        harness.run_steps(2);
        harness.get_by_label("Order pipeline");
        harness.get_by_label("Watch lag grow.");
        harness.get_by_label("first point");
        harness.get_by_label("second point");
        harness.get_by_label("nested point");
        harness.get_by_label("numbered");
        harness.get_by_label("1.");
        harness.get_by_label("the docs");
        harness.get_by_label("code here");
    }

    #[test]
    fn renders_placeholder_when_empty() {
        let mut harness = Harness::new_ui(|ui| show_markdown(ui, "  \n"));
        harness.run_steps(1);
        harness.get_by_label("No notes for this scenario.");
    }
}
