/** Emulators accept any credentials; these make the intent obvious in logs. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

export const LOCAL_REGION = "us-east-1";
