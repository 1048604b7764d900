/**
 * Character codes the lexer and the literal-list scanners compare against (charCodeAt results).
 */
export const CH_TAB = 9;
export const CH_LF = 10;
export const CH_CR = 13;
export const CH_SPACE = 32;
export const CH_BANG = 33;
export const CH_DQUOTE = 34;
export const CH_HASH = 35;
export const CH_DOLLAR = 36;
export const CH_SQUOTE = 39;
export const CH_LPAREN = 40;
export const CH_RPAREN = 41;
export const CH_STAR = 42;
export const CH_PLUS = 43;
export const CH_COMMA = 44;
export const CH_MINUS = 45;
export const CH_DOT = 46;
export const CH_SLASH = 47;
export const CH_0 = 48;
export const CH_9 = 57;
export const CH_COLON = 58;
export const CH_SEMICOLON = 59;
export const CH_QUESTION = 63;
export const CH_AT = 64;
export const CH_BACKSLASH = 92;
export const CH_UNDERSCORE = 95;
export const CH_BACKTICK = 96;
