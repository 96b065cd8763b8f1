//! Emoticon text codes (`:)`, `(Y)`, `(coffee)`…): which codes there are and where they
//! stand in a message. Pure; the pictures are painted by [`crate::pictures`].

/// The pictures the conversation window can show in place of a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Emoticon {
    Smile,
    Grin,
    Wink,
    Sad,
    Tongue,
    Surprised,
    Confused,
    Crying,
    Angry,
    Cool,
    ThumbsUp,
    ThumbsDown,
    Heart,
    BrokenHeart,
    Coffee,
}

impl Emoticon {
    /// Every emoticon, in the order the picker shows them.
    pub const ALL: [Emoticon; 15] = [
        Emoticon::Smile,
        Emoticon::Grin,
        Emoticon::Wink,
        Emoticon::Tongue,
        Emoticon::Surprised,
        Emoticon::Sad,
        Emoticon::Confused,
        Emoticon::Crying,
        Emoticon::Angry,
        Emoticon::Cool,
        Emoticon::ThumbsUp,
        Emoticon::ThumbsDown,
        Emoticon::Heart,
        Emoticon::BrokenHeart,
        Emoticon::Coffee,
    ];

    /// What a screen reader says, and the picker's tooltip.
    pub fn name(self) -> &'static str {
        match self {
            Emoticon::Smile => "smile",
            Emoticon::Grin => "big smile",
            Emoticon::Wink => "wink",
            Emoticon::Sad => "sad",
            Emoticon::Tongue => "tongue out",
            Emoticon::Surprised => "surprised",
            Emoticon::Confused => "confused",
            Emoticon::Crying => "crying",
            Emoticon::Angry => "angry",
            Emoticon::Cool => "cool",
            Emoticon::ThumbsUp => "thumbs up",
            Emoticon::ThumbsDown => "thumbs down",
            Emoticon::Heart => "heart",
            Emoticon::BrokenHeart => "broken heart",
            Emoticon::Coffee => "coffee",
        }
    }

    /// The code the picker types for it (the first one people know).
    pub fn code(self) -> &'static str {
        CODES.iter().find(|(_, e)| *e == self).map(|(code, _)| *code).unwrap_or("")
    }
}

/// Every code and its picture. Letters match in either case (`(y)` is `(Y)`).
pub const CODES: &[(&str, Emoticon)] = &[
    (":)", Emoticon::Smile),
    (":-)", Emoticon::Smile),
    (":D", Emoticon::Grin),
    (":-D", Emoticon::Grin),
    (";)", Emoticon::Wink),
    (";-)", Emoticon::Wink),
    (":(", Emoticon::Sad),
    (":-(", Emoticon::Sad),
    (":P", Emoticon::Tongue),
    (":-P", Emoticon::Tongue),
    (":O", Emoticon::Surprised),
    (":-O", Emoticon::Surprised),
    (":S", Emoticon::Confused),
    (":-S", Emoticon::Confused),
    (":'(", Emoticon::Crying),
    (":@", Emoticon::Angry),
    (":-@", Emoticon::Angry),
    ("(H)", Emoticon::Cool),
    ("8-)", Emoticon::Cool),
    ("(Y)", Emoticon::ThumbsUp),
    ("(N)", Emoticon::ThumbsDown),
    ("(L)", Emoticon::Heart),
    ("<3", Emoticon::Heart),
    ("(U)", Emoticon::BrokenHeart),
    ("</3", Emoticon::BrokenHeart),
    ("(coffee)", Emoticon::Coffee),
];

/// A piece of a message: text as written, or a code shown as a picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    Text(&'a str),
    Emoticon { emoticon: Emoticon, code: &'a str },
}

/// Splits `text` into text and emoticons. Nothing is lost: the pieces joined (codes as
/// written) give `text` back. Codes inside web addresses stay text, and a code ending
/// in a letter (`:D`, `:P`) only counts when no letter or digit follows, so `C:Data`
/// and `:Parsing` stay as they are.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        if word_starts(text, at) && is_address(rest) {
            at += rest.find(char::is_whitespace).unwrap_or(rest.len());
            continue;
        }
        if let Some((emoticon, len)) = code_at(text, at) {
            if plain_from < at {
                tokens.push(Token::Text(&text[plain_from..at]));
            }
            tokens.push(Token::Emoticon { emoticon, code: &text[at..at + len] });
            at += len;
            plain_from = at;
            continue;
        }
        at += rest.chars().next().map_or(1, char::len_utf8);
    }
    if plain_from < text.len() {
        tokens.push(Token::Text(&text[plain_from..]));
    }
    tokens
}

/// Whether `text` has any code that [`tokenize`] would show as a picture.
pub fn has_emoticons(text: &str) -> bool {
    tokenize(text).iter().any(|t| matches!(t, Token::Emoticon { .. }))
}

fn word_starts(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_none_or(char::is_whitespace)
}

fn is_address(word: &str) -> bool {
    let lower = word.get(..8).unwrap_or(word).to_ascii_lowercase();
    ["http://", "https://", "ftp://", "www."].iter().any(|p| lower.starts_with(p))
}

/// The longest code starting at byte `at`, if it stands on its own.
fn code_at(text: &str, at: usize) -> Option<(Emoticon, usize)> {
    let bytes = &text.as_bytes()[at..];
    let before = text[..at].chars().next_back();
    let mut best: Option<(Emoticon, usize)> = None;
    for (code, emoticon) in CODES {
        let len = code.len();
        if bytes.len() < len || !bytes[..len].eq_ignore_ascii_case(code.as_bytes()) {
            continue;
        }
        let after = text[at + len..].chars().next();
        let ends_in_letter = code.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
        let starts_with_letter = code.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        if ends_in_letter && after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        if starts_with_letter && before.is_some_and(char::is_alphanumeric) {
            continue;
        }
        if best.is_none_or(|(_, l)| len > l) {
            best = Some((*emoticon, len));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message as the view shows it: codes as `[name]`.
    fn shown(text: &str) -> String {
        tokenize(text)
            .into_iter()
            .map(|t| match t {
                Token::Text(s) => s.to_string(),
                Token::Emoticon { emoticon, .. } => format!("[{}]", emoticon.name()),
            })
            .collect()
    }

    fn joined(text: &str) -> String {
        tokenize(text)
            .into_iter()
            .map(|t| match t {
                Token::Text(s) | Token::Emoticon { code: s, .. } => s,
            })
            .collect()
    }

    #[test]
    fn the_common_codes_become_pictures() {
        assert_eq!(shown("hi :) how are you :("), "hi [smile] how are you [sad]");
        assert_eq!(shown(":D ;) :P (Y) (N)"), "[big smile] [wink] [tongue out] [thumbs up] [thumbs down]");
        assert_eq!(shown("(coffee) at 10? (L) <3"), "[coffee] at 10? [heart] [heart]");
        assert_eq!(
            shown(":-) :-D ;-) :'( :@ (H) </3 (U)"),
            "[smile] [big smile] [wink] [crying] [angry] [cool] [broken heart] [broken heart]"
        );
    }

    #[test]
    fn letters_match_in_either_case() {
        assert_eq!(shown("(y) (Coffee) :p :d (l)"), "[thumbs up] [coffee] [tongue out] [big smile] [heart]");
    }

    #[test]
    fn codes_need_no_spaces_around_them() {
        assert_eq!(shown("great:)(Y)"), "great[smile][thumbs up]");
        assert_eq!(shown("ok:D"), "ok[big smile]");
    }

    #[test]
    fn codes_ending_in_a_letter_stand_alone() {
        assert_eq!(shown("C:Data :Parsing 8-)x"), "C:Data :Parsing [cool]x");
        assert_eq!(shown("b8-) :Dx"), "b8-) :Dx");
    }

    #[test]
    fn web_addresses_keep_their_colons() {
        assert_eq!(shown("see https://example.com/:P/x :P"), "see https://example.com/:P/x [tongue out]");
        assert_eq!(shown("www.a.com/(Y) (Y)"), "www.a.com/(Y) [thumbs up]");
    }

    #[test]
    fn the_longest_code_wins() {
        assert_eq!(shown("</3"), "[broken heart]");
        assert_eq!(shown(":-("), "[sad]");
    }

    #[test]
    fn nothing_is_lost() {
        for text in ["", "plain", "ünïcode :) ☕ (Y)", "::))", "(coffee", ":", "a<3b</3c", "é:Dé :D"] {
            assert_eq!(joined(text), text);
        }
        assert!(tokenize("").is_empty());
        assert_eq!(tokenize("no codes"), vec![Token::Text("no codes")]);
    }

    #[test]
    fn every_picture_has_a_code_and_a_name() {
        for emoticon in Emoticon::ALL {
            assert!(!emoticon.code().is_empty(), "{emoticon:?}");
            assert_eq!(tokenize(emoticon.code()), vec![Token::Emoticon { emoticon, code: emoticon.code() }]);
        }
        assert!(has_emoticons("ok (Y)"));
        assert!(!has_emoticons("ok"));
    }
}
