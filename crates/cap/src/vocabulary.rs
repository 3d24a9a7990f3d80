//! The closed vocabularies of CAP 1.2: every enumeration of the XSD, spelled as the XSD spells
//! them (case-sensitive, no surrounding whitespace: the XSD's `xs:string` keeps whitespace).

use std::fmt;
use std::str::FromStr;

/// A value outside one of the CAP enumerations; the message names the accepted values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not one of {}", expected.join(", "))]
pub struct UnknownValue {
    pub expected: &'static [&'static str],
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in the XSD's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as CAP writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(text: &str) -> Result<Self, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { expected: &[$($text),+] }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// `alert/status`: the handling the message calls for.
    Status {
        Actual => "Actual",
        Exercise => "Exercise",
        System => "System",
        Test => "Test",
        Draft => "Draft",
    }
}

vocabulary! {
    /// `alert/msgType`: what the message does to earlier ones.
    MessageType {
        Alert => "Alert",
        Update => "Update",
        Cancel => "Cancel",
        Ack => "Ack",
        Error => "Error",
    }
}

vocabulary! {
    /// `alert/scope`: who may see the message.
    Scope {
        Public => "Public",
        Restricted => "Restricted",
        Private => "Private",
    }
}

vocabulary! {
    /// `info/category`.
    Category {
        Geo => "Geo",
        Met => "Met",
        Safety => "Safety",
        Security => "Security",
        Rescue => "Rescue",
        Fire => "Fire",
        Health => "Health",
        Env => "Env",
        Transport => "Transport",
        Infra => "Infra",
        Cbrne => "CBRNE",
        Other => "Other",
    }
}

vocabulary! {
    /// `info/responseType`: the action recommended to the audience.
    ResponseType {
        Shelter => "Shelter",
        Evacuate => "Evacuate",
        Prepare => "Prepare",
        Execute => "Execute",
        Avoid => "Avoid",
        Monitor => "Monitor",
        Assess => "Assess",
        AllClear => "AllClear",
        None => "None",
    }
}

vocabulary! {
    /// `info/urgency`.
    Urgency {
        Immediate => "Immediate",
        Expected => "Expected",
        Future => "Future",
        Past => "Past",
        Unknown => "Unknown",
    }
}

vocabulary! {
    /// `info/severity`.
    Severity {
        Extreme => "Extreme",
        Severe => "Severe",
        Moderate => "Moderate",
        Minor => "Minor",
        Unknown => "Unknown",
    }
}

vocabulary! {
    /// `info/certainty`.
    Certainty {
        Observed => "Observed",
        Likely => "Likely",
        Possible => "Possible",
        Unlikely => "Unlikely",
        Unknown => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_reads_back_from_its_own_spelling() {
        for category in Category::ALL {
            assert_eq!(category.as_str().parse::<Category>(), Ok(*category));
        }
        for response in ResponseType::ALL {
            assert_eq!(response.to_string().parse::<ResponseType>(), Ok(*response));
        }
    }

    #[test]
    fn spelling_is_exact() {
        assert_eq!("CBRNE".parse::<Category>(), Ok(Category::Cbrne));
        assert!("actual".parse::<Status>().is_err());
        assert!(" Actual".parse::<Status>().is_err());
        let error = "Maybe".parse::<Certainty>().unwrap_err();
        assert_eq!(error.to_string(), "not one of Observed, Likely, Possible, Unlikely, Unknown");
    }
}
