//! Line numbers of records in a text file, for errors that point at a row.
//!
//! CSV readers count lines their own way (CRLF files, quoted line breaks); counting the `\n`
//! bytes before a record's start is exact for every file.

/// Counts forward through a text; ask in increasing byte order (as records come).
pub struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    pub fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter { text: text.as_bytes(), byte: 0, line: 1 }
    }

    /// The 1-based line on which the record starting at byte `offset` lies. Line-ending bytes
    /// at `offset` are skipped: with CRLF endings the csv crate reports a record as starting at
    /// the `\n` that ends the previous line.
    pub fn line_at(&mut self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while matches!(self.text.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if offset < self.byte {
            *self = LineCounter { text: self.text, byte: 0, line: 1 };
        }
        self.line += self.text[self.byte..offset].iter().filter(|&&b| b == b'\n').count();
        self.byte = offset;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_newlines_whatever_the_line_ending() {
        let text = "header\r\nfirst\r\n\"two\nlines\"\r\nlast";
        let mut lines = LineCounter::new(text);
        assert_eq!(lines.line_at(0), 1);
        assert_eq!(lines.line_at(text.find("first").unwrap()), 2);
        assert_eq!(lines.line_at(text.find("\"two").unwrap()), 3);
        assert_eq!(lines.line_at(text.find("last").unwrap()), 5);
        assert_eq!(lines.line_at(text.find("first").unwrap()), 2, "asking backwards starts over");
    }
}
