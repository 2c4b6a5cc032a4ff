// Common given names across the languages our users' data is likely in. The
// detector only needs a first name to tell "Jane Doe" from "Blue Widget"; a
// miss costs little because a column needs a share of its sampled rows to match.
// Names that are also ordinary words in titles or places (e.g. "Rose",
// "April", "Paris", "Florence") are left out on purpose.
const NAMES = `
aaron abdul abigail adam adrian agnes ahmed aida aiko akira alain alan albert alberto alejandro aleksandr alessandro
alex alexander alexandra alexandre alexis alfred alfredo ali alice alicia alina alison amanda amelia amir amy ana
anastasia andre andrea andreas andrew andrzej angela angelika anita ann anna anne annette anthony antoine anton
antonio arjun arnaud arthur ashley astrid aurelie ayumi barbara beatrice ben benjamin bernard bertrand beth betty
bianca bjorn brandon brenda brian bruno camille carl carla carlos carmen carol caroline catherine cecile cedric
celine charles charlie chiara chloe christian christina christine christopher claire clara claude claudia colin
cristina cynthia damien daniel daniela danielle david deborah denis dennis diana diego dimitri dmitri dominique
donald donna dorothy edward elena eleni elias elisa elisabeth elizabeth ella ellen emil emilia emily emma emmanuel
enrique eric erik erika esther ethan eugene eva evelyn fabien fatima federico felix fernando florian francesca
francesco francis francisco francois frank franz frederic gabriel gabriela gabrielle gary george georges gerard
gianni gilles giorgio giovanni giulia giuseppe gloria gregory guillaume gustavo hana hannah hans harry hassan
heather heinrich helen helena henri henrik henry hiroshi hugo ian igor ines ingrid irene isabel isabella isabelle
ivan jack jacob jacqueline jacques jakub james jan jane janet janice jason javier jean jeanne jeffrey jennifer
jeremy jerome jessica joan joanna joao joel johan johann johannes john jonas jonathan jorge jose josef joseph joshua
juan judith julia julian julie julien jurgen justin kai karen karim karin karl kate katharina katherine kathleen
kenji kenneth kevin kim klaus kristina larry laura laurent lea lena leon leonardo lin linda lisa louis louise luc
luca lucas lucia luis lukas maciej magdalena mahmoud manuel marc marcel marco marcus margaret maria marie marina
mario marion mark marta martha martin mary mateo mathieu matteo matthew matthias maurice max maxime mehdi melanie
melissa mia michael michel michelle miguel mikhail mohamed mohammed monica monika nadia nancy natalia natalie
nathalie nathan nicholas nicolas nicole niklas nikolai nina noah noemie nora olga olivia olivier omar oscar pablo
pamela pascal patricia patrick paul paula pedro peter philippe pierre piotr rachel rafael raphael raul rebecca
renee ricardo richard robert roberto roger roman ronald rosa ruth ryan sabine sadia samuel sandra sara sarah
sebastian sebastien sergei sergio sharon simon sofia sophie stefan stefanie stephane stephanie stephen steven
susan susanne suzanne sven sylvie takashi tanya teresa thierry thomas tim timothy tobias tom tomasz ursula
valentina valerie vanessa vera veronica veronique victor vincent virginie walter wang wei werner william
wolfgang xavier yann yannick yasmin yuki yusuf yves zoe
`;

const names = new Set(NAMES.split(/\s+/).filter((n) => n !== ""));

/** Compare without accents or case: "Émilie" and "EMILIE" both match "emilie". */
function fold(word: string): string {
  return word.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

export function isCommonFirstName(word: string): boolean {
  return names.has(fold(word));
}
