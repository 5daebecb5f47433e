//! Name search that works in Cyrillic and Latin: a stored search key of lower-cased names plus
//! their Latin transliteration, so "Бат", "бат" and "bat" all find Батболд.

/// What an erased person's names read as.
pub const ERASED: &str = "[erased]";

/// Mongolian Cyrillic to Latin, as field workers type it on Latin keyboards (ө → o, ү → u).
fn latin(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "yo",
        'ж' => "j",
        'з' => "z",
        'и' => "i",
        'й' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ү' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "",
        'ы' => "y",
        'ь' => "i",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

pub fn transliterate(lower: &str) -> String {
    lower.chars().map(|c| latin(c).map(str::to_string).unwrap_or_else(|| c.to_string())).collect()
}

/// Normalises a search term or a name: Unicode lower case, single spaces, trimmed.
pub fn normalise(s: &str) -> String {
    s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The stored search key of a person.
pub fn search_key(given: &str, family: &str) -> String {
    let names = normalise(&format!("{given} {family}"));
    let latin = transliterate(&names);
    if latin == names { names } else { format!("{names} | {latin}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_and_latin_terms_find_the_same_name() {
        let key = search_key("Батболд", "Дорж");
        for term in ["Бат", "батболд", "BAT", "dorj", "батболд дорж"] {
            assert!(key.contains(&normalise(term)), "{term} in {key}");
        }
        assert_eq!(search_key("Anna", "Smith"), "anna smith");
        assert_eq!(transliterate("өлзий"), "olzii");
    }
}
