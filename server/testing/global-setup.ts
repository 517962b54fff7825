// Placeholder replaced once the server tests exist.
export default async function setup(): Promise<void> {}
