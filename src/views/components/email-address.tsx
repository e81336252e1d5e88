/**
 * An e-mail address that, on a narrow screen, wraps after the "@" rather than in the middle of
 * a word.
 */
export function EmailAddress(props: { email: string }) {
  const at = props.email.lastIndexOf('@');
  if (at < 0) return <>{props.email}</>;
  return (
    <>
      {props.email.slice(0, at + 1)}
      <wbr />
      {props.email.slice(at + 1)}
    </>
  );
}
