//! Writing HTML safely: every text that may come from outside (an operator's message, a CAP
//! message, a region's name) goes through [`escape`], in element content and in attributes alike.

use std::fmt::Write;

/// `text` with `& < > " '` replaced by character references: safe in element content and in
/// a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

pub fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// JSON for a `<script type="application/json">` block: `<` is written as `\u003c`, so no text
/// inside can close the element or open a comment.
pub fn json_for_script(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// Appends formatted text (what `write!` does, without a `Result` to ignore at every call).
pub fn put(out: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_outside_is_shown_as_text() {
        assert_eq!(
            escape(r#"<img src=x onerror="alert(1)"> & 'x'"#),
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;x&#39;"
        );
    }

    #[test]
    fn json_in_a_script_block_cannot_close_it() {
        let value = serde_json::json!({"m": "</script><script>alert(1)</script>"});
        let text = json_for_script(&value);
        assert!(!text.contains('<'), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }
}
