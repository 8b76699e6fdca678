/** Unit tests live beside each package (…/test/); integration tests, against real nginx, Redis and Postgres, in tests/. */
const tsJest = ["ts-jest", { tsconfig: "tsconfig.test.json" }];
const moduleNameMapper = { "^@flash-sale/gateway-lua/core/(.*)$": "<rootDir>/gateway-lua/src/core/$1" };

module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform: { "^.+\\.ts$": tsJest },
      moduleNameMapper,
      testMatch: ["<rootDir>/{gateway-lua,control-plane,order-worker,node-common,nginx-conf}/test/**/*.test.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform: { "^.+\\.ts$": tsJest },
      moduleNameMapper,
      testMatch: ["<rootDir>/tests/**/*.test.ts"],
      testTimeout: 120000,
    },
  ],
};
