/**
 * Realistic synthetic users for the load generator: the mix randomuser.me produces (non-ASCII
 * and apostrophe names, numeric and alphanumeric post codes, a few null fields), generated
 * from a seeded generator (`createRng(seed).next` of `testing/rng.ts`) so that a run can be
 * repeated.
 *
 * A user of schema version 1 has the fields every sender knows; one of version 2 adds the
 * nationality of its address's country and a mobile number (`nat`, `cell`; each null now and
 * then). The version-2 fields are drawn after the others, so a seed gives the same first user
 * in both versions, and version 1 stays what it was before version 2 existed.
 */
import type { SchemaVersion, UserInput } from "../shared/event.ts";

const FIRST = [
  "Zoë",
  "Ömer",
  "Siobhán",
  "José",
  "Mathilde",
  "Ngozi",
  "Björn",
  "Aarav",
  "Léa",
  "Chloé",
  "Mikkel",
  "Emma",
];
const LAST = [
  "O'Brien",
  "D'Angelo",
  "Müller",
  "Nguyễn",
  "García",
  "Kowalski",
  "Dubois",
  "Øvergaard",
  "Smith",
  "Tanaka",
];
/** City, state, country, post code, and the country's nationality code (version 2's `nat`). */
const PLACES: [string, string, string, () => string | number, string][] = [
  ["Saint-Étienne", "Auvergne-Rhône-Alpes", "France", () => 42000, "FR"],
  ["Kırıkkale", "Ağrı", "Turkey", () => 76133, "TR"],
  ["London", "Greater London", "United Kingdom", () => "EC1A 1BB", "GB"],
  ["Toronto", "Ontario", "Canada", () => "M5V 2T6", "CA"],
  ["München", "Bayern", "Germany", () => 80331, "DE"],
  ["Porto Alegre", "Rio Grande do Sul", "Brazil", () => 90010, "BR"],
];
const STREETS = [
  "Rue de l'Église",
  "Bağdat Cd",
  "Baker Street",
  "King St W",
  "Leopoldstraße",
  "Avenida Ipiranga",
];

const pick = <T>(random: () => number, list: readonly T[]): T =>
  list[Math.floor(random() * list.length)]!;

/**
 * One synthetic user with a fresh random UUID, with the fields of `schemaVersion` (default 1:
 * what the benchmarks and the fault suite have always sent).
 */
export function syntheticUser(random: () => number, schemaVersion: SchemaVersion = 1): UserInput {
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const [city, state, country, postCode, nat] = pick(random, PLACES);
  const n = Math.floor(random() * 1_000_000);
  const ascii = `${first}.${last}`.normalize("NFKD").replace(/[^a-zA-Z.]/g, "").toLowerCase();
  const female = random() < 0.5;
  const year = 1950 + Math.floor(random() * 55);
  const user: UserInput = {
    id: crypto.randomUUID(),
    first_name: first,
    last_name: last,
    gender: female ? "female" : "male",
    address: `${1 + Math.floor(random() * 9999)} ${
      pick(random, STREETS)
    }, ${city}, ${state}, ${country}`,
    post_code: postCode(),
    email: `${ascii}${n}@example.com`,
    username: random() < 0.05 ? null : `${ascii.replace(".", "")}${n}`,
    dob: `${year}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}T0${
      Math.floor(random() * 9)
    }:15:30.000Z`,
    registered_date: `20${10 + Math.floor(random() * 15)}-06-01T08:30:00.000Z`,
    phone: `+${1 + Math.floor(random() * 98)} ${100 + Math.floor(random() * 899)} ${1000000 + n}`,
    picture: `https://randomuser.me/api/portraits/med/${female ? "women" : "men"}/${n % 100}.jpg`,
  };
  if (schemaVersion === 1) return user;
  user.nat = random() < 0.05 ? null : nat;
  user.cell = random() < 0.05
    ? null
    : `+${1 + Math.floor(random() * 98)} 7${10 + Math.floor(random() * 89)} ${1000000 + n}`;
  return user;
}
